package dev.millrace.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The benchmark's chain as a Kafka Streams application: read the input topic,
 * keep events with amount &gt; 0, set total_cents = int(amount * 100), rename
 * user to user_id, drop debug, write the output topic. Keys, headers and
 * timestamps go through unchanged (Kafka Streams forwards them).
 *
 * <pre>
 * java -cp CLASSPATH dev.millrace.bench.KStreamsBench --bootstrap HOST:PORT \
 *     --input TOPIC --output TOPIC --application-id ID --state-dir DIR \
 *     [--threads 2] [--commit-interval-ms 100]
 * </pre>
 *
 * <p>It runs until standard input is closed (or reaches its end) or the JVM
 * gets SIGTERM/SIGINT, then closes the streams client, which commits what it
 * processed, and exits 0. It exits 1 if a stream thread failed.
 */
public final class KStreamsBench {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private KStreamsBench() {}

  /** JSON values as Jackson trees; keys stay bytes. */
  static Serde<JsonNode> jsonSerde() {
    return Serdes.serdeFrom(
        (topic, node) -> {
          try {
            return node == null ? null : MAPPER.writeValueAsBytes(node);
          } catch (JsonProcessingException e) {
            throw new SerializationException(e);
          }
        },
        (topic, bytes) -> {
          try {
            return bytes == null ? null : MAPPER.readTree(bytes);
          } catch (IOException e) {
            throw new SerializationException(e);
          }
        });
  }

  /** The 4-step edit, in place on the event's ObjectNode. */
  static JsonNode edit(JsonNode value) {
    ObjectNode o = (ObjectNode) value;
    o.put("total_cents", (long) (o.get("amount").asDouble() * 100));
    JsonNode user = o.remove("user");
    if (user != null) {
      o.set("user_id", user);
    }
    o.remove("debug");
    return o;
  }

  static boolean keep(JsonNode value) {
    JsonNode amount = value.get("amount");
    return amount != null && amount.isNumber() && amount.asDouble() > 0;
  }

  /** The settings, as a Kafka Streams user tuning for throughput sets them. */
  static Properties settings(Map<String, String> a) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, a.get("application-id"));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
    p.put(StreamsConfig.STATE_DIR_CONFIG, a.get("state-dir"));
    p.put(StreamsConfig.CLIENT_ID_CONFIG, "millrace-bench-ks");
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(a.getOrDefault("threads", "2")));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(a.getOrDefault("commit-interval-ms", "100")));
    // The group reads the preloaded records from the start (Kafka Streams'
    // default too).
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    p.put(StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), "all");
    p.put(StreamsConfig.producerPrefix(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG), true);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 100);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 256 * 1024);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "snappy");
    return p;
  }

  static Map<String, String> parseArgs(String[] args) {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got " + String.join(" ", args));
      }
      a.put(args[i].substring(2), args[++i]);
    }
    for (String k : new String[] {"bootstrap", "input", "output", "application-id", "state-dir"}) {
      if (!a.containsKey(k)) {
        throw new IllegalArgumentException("--" + k + " is required");
      }
    }
    return a;
  }

  public static void main(String[] args) throws InterruptedException {
    Map<String, String> a = parseArgs(args);
    Properties props = settings(a);
    Serde<JsonNode> json = jsonSerde();
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(a.get("input"), Consumed.with(Serdes.ByteArray(), json))
        .filter((key, value) -> keep(value))
        .mapValues(KStreamsBench::edit)
        .to(a.get("output"), Produced.with(Serdes.ByteArray(), json));

    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    AtomicBoolean failed = new AtomicBoolean();
    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    streams.setUncaughtExceptionHandler(
        e -> {
          System.err.println("ks: stream thread failed: " + e);
          e.printStackTrace();
          failed.set(true);
          stop.countDown();
          return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    streams.setStateListener(
        (now, before) -> {
          if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
            stop.countDown();
          }
        });
    // SIGTERM/SIGINT: let main close the client, wait for it.
    AtomicBoolean signalled = new AtomicBoolean();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  signalled.set(true);
                  stop.countDown();
                  try {
                    closed.await(40, TimeUnit.SECONDS);
                  } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                  }
                },
                "ks-shutdown"));
    // End of standard input: the parent wants us to stop, or is gone.
    Thread stdin =
        new Thread(
            () -> {
              try {
                while (System.in.read() >= 0) {
                  // ignore input
                }
              } catch (IOException ignored) {
                // a closed stream is a stop as well
              }
              stop.countDown();
            },
            "ks-stdin");
    stdin.setDaemon(true);
    stdin.start();

    System.err.println("ks: starting with " + new TreeMap<>(props));
    streams.start();
    stop.await();
    boolean clean = streams.close(Duration.ofSeconds(30));
    closed.countDown();
    if (!clean) {
      System.err.println("ks: the streams client did not close within 30 s");
    }
    int code = failed.get() || !clean ? 1 : 0;
    if (!signalled.get()) {
      // The shutdown hook must not be waiting for us when System.exit runs it.
      System.exit(code);
    }
  }
}
