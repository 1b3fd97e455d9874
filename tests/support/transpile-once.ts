/**
 * Loaded by mocha after ts-node (.mocharc.json `require`): remembers what ts-node transpiled, per file
 * and source text, for the life of the process. `deployUnderMocks` reloads every project module for
 * each deployment (fresh module state per stack), and without this each reload transpiles the whole
 * program again: about a fifth of a deployment's CPU. Transpiling is a pure function of the file name
 * and its text (ts-node's transpile-only mode), so the remembered output is exactly what ts-node
 * would produce again.
 */
interface TsNodeService {
    compile(code: string, fileName: string, lineOffset?: number): string;
}

const service = (process as unknown as Record<symbol, TsNodeService | undefined>)[Symbol.for("ts-node.register.instance")];
if (service) {
    const compile = service.compile.bind(service);
    const outputs = new Map<string, { code: string; output: string }>();
    service.compile = (code, fileName, lineOffset = 0) => {
        const key = `${lineOffset}:${fileName}`;
        const known = outputs.get(key);
        if (known?.code === code) return known.output;
        const output = compile(code, fileName, lineOffset);
        outputs.set(key, { code, output });
        return output;
    };
}
