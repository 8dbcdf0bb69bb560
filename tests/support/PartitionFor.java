// Prints the partition Java's Kafka producer picks for each key (KIP-794 keyed path):
//   java -cp '<kafka libs>/*' PartitionFor.java <partitions> <key>...
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;

public class PartitionFor {
    public static void main(String[] args) {
        int partitions = Integer.parseInt(args[0]);
        for (int i = 1; i < args.length; i++) {
            byte[] key = args[i].getBytes(StandardCharsets.UTF_8);
            System.out.println(args[i] + " " + BuiltInPartitioner.partitionForKey(key, partitions));
        }
    }
}
