// The reference oracle for moosegen's compatibility engine: Apache Avro Java's
// SchemaCompatibility, driven over stdin.
//
// Input: one JSON array per line, [readerSchema, writerSchema] (each any Avro schema JSON).
// Output: one line per input line, tab-separated:
//   COMPATIBLE
//   INCOMPATIBLE <TYPE>@<location>[ <TYPE>@<location> ...]
//   ERROR <message>          (a schema Java refuses to parse)
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

public final class CompatOracle {
  public static void main(String[] args) throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      out.write(verdict(mapper, line));
      out.write('\n');
    }
    out.flush();
  }

  private static String verdict(ObjectMapper mapper, String line) {
    Schema reader;
    Schema writer;
    try {
      JsonNode pair = mapper.readTree(line);
      reader = new Schema.Parser().parse(pair.get(0).toString());
      writer = new Schema.Parser().parse(pair.get(1).toString());
    } catch (Exception e) {
      return "ERROR\t" + String.valueOf(e.getMessage()).replace('\n', ' ').replace('\t', ' ');
    }
    try {
      SchemaCompatibility.SchemaPairCompatibility result =
          SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
      if (result.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
        return "COMPATIBLE";
      }
      StringBuilder sb = new StringBuilder("INCOMPATIBLE\t");
      boolean first = true;
      for (SchemaCompatibility.Incompatibility inc : result.getResult().getIncompatibilities()) {
        if (!first) {
          sb.append(' ');
        }
        first = false;
        sb.append(inc.getType()).append('@').append(inc.getLocation());
      }
      return sb.toString();
    } catch (Exception e) {
      return "ERROR\t" + e.getClass().getSimpleName() + ": "
          + String.valueOf(e.getMessage()).replace('\n', ' ').replace('\t', ' ');
    }
  }
}
