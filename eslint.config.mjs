// Lint: typescript-eslint's recommended rules everywhere, Pulumi's Output rules
// (type-aware) on the program, Prettier owns formatting.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "**/node_modules/", ".local/", "schemas/", "policies/node_modules/", "examples/sender/node_modules/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        languageOptions: { ecmaVersion: 2023, sourceType: "module" },
        rules: {
            "@typescript-eslint/no-unused-vars": [
                "error",
                { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
            ],
            // `import x = require("…")` is TypeScript's typed CommonJS import, which Pulumi's closure serializer turns into `require` in the archive.
            // A plain `require("…")` is allowed only for the modules listed: those loaded on first use in Lambda code (their
            // cold-start cost is paid only on the path that needs them: handlers/tracing.ts, handlers/shared/deferred.ts),
            // modules that ship no type declarations to import, and modules loaded after module state is reset.
            "@typescript-eslint/no-require-imports": [
                "error",
                {
                    allowAsImport: true,
                    allow: [
                        "^@aws-sdk/client-[a-z0-9-]+$",
                        "^@aws-lambda-powertools/tracer$",
                        "^nodemailer$",
                        "^@pulumi/policy/(proxy|protoutil)$",
                        "^@pulumi/pulumi/proto/[a-z_]+$",
                        "^google-protobuf/google/protobuf/[a-z_]+$",
                        "^@grpc/grpc-js$",
                        // Plain CommonJS scripts with no type declarations: they run before TypeScript is installed.
                        "^(\\.\\./)+scripts/[a-z0-9-]+\\.js$",
                        // Loaded after module state is reset: a fresh Pulumi runtime per mock deployment, and the
                        // program after the URN recorder is installed.
                        "^@pulumi/pulumi$",
                        "^\\.\\./\\.\\./\\.\\./index$",
                    ],
                },
            ],
        },
    },
    {
        // Tests read untyped documents (IAM policies, EMF, protobuf structs, engine requests) and poke at their
        // fields; the program, handlers and tools keep the rule.
        files: ["tests/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
    {
        files: ["**/*.js", "**/*.cjs"],
        languageOptions: {
            sourceType: "commonjs",
            globals: { require: "readonly", module: "writable", process: "readonly", __dirname: "readonly", console: "readonly" },
        },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        files: ["**/*.mjs"],
        languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
    },
    {
        // An Output in a template literal prints "Calling [toString] on an [Output<T>]…" instead of its value.
        files: ["index.ts", "program.ts", "components/**/*.ts", "config/**/*.ts"],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },
    prettier,
);
