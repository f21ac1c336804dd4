// A single-node OpenSearch for tests, run from the Maven jars as a single-file source
// program: java -cp '.devinfra/opensearch/libs/*' devinfra/opensearch/OsNode.java HOME
//
// An embedded Node has no security plugin (plain HTTP, no auth) and skips the bootstrap
// checks, such as vm.max_map_count, that the packaged distribution runs.
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

public class OsNode {
    // The constructor that takes classpath plugins is protected, hence this subclass.
    static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    // The modules that the distribution loads from modules/ and that tests may need.
    static final String[] PLUGINS = {
        "org.opensearch.transport.Netty4Plugin",
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
        "org.opensearch.painless.PainlessPlugin",
        "org.opensearch.index.mapper.MapperExtrasPlugin",
        "org.opensearch.index.reindex.ReindexPlugin",
    };

    public static void main(String[] args) throws Exception {
        Path home = Paths.get(args.length > 0 ? args[0] : "/tmp/opensearch-it").toAbsolutePath();
        int port = Integer.getInteger("os.http.port", 9200);
        for (String dir : new String[] {"config", "data", "logs", "plugins", "modules"}) {
            Files.createDirectories(home.resolve(dir));
        }
        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "ceh-test")
            .put("node.name", "ceh-test-1")
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("transport.port", port + 100)
            .put("discovery.type", "single-node")
            // Build machines can be nearly full: never make indices read-only for that.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();
        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), home.resolve("config"), () -> "ceh-test-1");

        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String name : PLUGINS) {
            plugins.add(Class.forName(name).asSubclass(Plugin.class));
        }
        Node node = new EmbeddedNode(env, plugins);
        // SIGTERM runs this hook, which closes the node cleanly (flushes and releases locks).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
        }));
        node.start();
        // One node cannot hold replicas, so new indices get none and turn green. This only
        // works as a cluster setting: as a node setting it is accepted and then ignored.
        node.client().admin().cluster().prepareUpdateSettings()
            .setPersistentSettings(Settings.builder().put("cluster.default_number_of_replicas", 0).build())
            .get();
        // scripts/services.sh waits for this line as well as for the cluster health.
        System.out.println("OPENSEARCH_STARTED http://127.0.0.1:" + port);
        Thread.currentThread().join();
    }
}
