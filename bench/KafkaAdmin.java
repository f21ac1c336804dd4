// The few admin calls the soak needs on its private broker, which has the
// Kafka jars but no command-line tools. A single-file source program:
//   java -cp '.devinfra/kafka/libs/*' bench/KafkaAdmin.java BROKERS create TOPIC PARTITIONS
//   java -cp '.devinfra/kafka/libs/*' bench/KafkaAdmin.java BROKERS committed GROUP
// `committed` prints {"partition": offset, ...} for the group's committed offsets.
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

public class KafkaAdmin {
    public static void main(String[] args) throws Exception {
        Map<String, Object> conf = Map.of("bootstrap.servers", args[0]);
        try (Admin admin = Admin.create(conf)) {
            switch (args[1]) {
                case "create" -> admin.createTopics(List.of(
                        new NewTopic(args[2], Integer.parseInt(args[3]), (short) 1))).all().get();
                case "committed" -> {
                    var offsets = admin.listConsumerGroupOffsets(args[2])
                            .partitionsToOffsetAndMetadata().get();
                    System.out.println(offsets.entrySet().stream()
                            .map(e -> "\"" + e.getKey().partition() + "\": " + e.getValue().offset())
                            .collect(Collectors.joining(", ", "{", "}")));
                }
                default -> throw new IllegalArgumentException("unknown command " + args[1]);
            }
        }
    }
}
