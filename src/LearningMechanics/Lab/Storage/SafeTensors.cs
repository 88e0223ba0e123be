using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearningMechanics.Lab.Storage;

/// <summary>One tensor read from a safetensors file, converted to float64.</summary>
public sealed record NamedTensor(string Name, string DType, long[] Shape, double[] Data);

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, a UTF-8 JSON header of N bytes mapping
/// each tensor name to {dtype, shape, data_offsets [begin, end)} (plus an optional "__metadata__" string map), then the
/// little-endian data. The reader validates the header against the file before allocating: header ≤ 100 MB, offsets
/// inside the data, byte counts equal to shape × element size, no overlapping tensors; F64, F32, F16 and BF16 are read.
/// </summary>
public static class SafeTensors
{
    /// <summary>The largest header read: 16 MB holds the names, shapes and offsets of ~10⁵ tensors, and bounds the parse's
    /// memory (a 99 MB JSON header took 3.2 GB).</summary>
    private const long MaxHeader = 16_000_000;

    public static (List<NamedTensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        using var fs = Npy.OpenForRead(path);
        var lenBytes = new byte[8];
        if (fs.Length < 8 || fs.Read(lenBytes, 0, 8) < 8) throw new BadInputException($"{path}: too short for a safetensors file.");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (headerLen < 2 || headerLen > MaxHeader || (long)headerLen > fs.Length - 8)
            throw new BadInputException($"{path}: safetensors header length {headerLen} is invalid for a file of {fs.Length} bytes.");
        var headerBytes = new byte[headerLen];
        fs.ReadExactly(headerBytes);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(headerBytes).TrimEnd(' ')) as JsonObject
                ?? throw new JsonException("not an object");
            // The object's properties are built on first use, where a repeated name throws: make that happen here.
            _ = header.Count;
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            // JsonNode.Parse reports a duplicate tensor name as an ArgumentException.
            throw new BadInputException($"{path}: safetensors header is not a JSON object with distinct tensor names ({e.Message}).");
        }
        long dataStart = 8 + (long)headerLen;
        long dataLen = fs.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, string DType, long[] Shape, long Begin, long End)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is JsonObject meta)
                    foreach (var (k, v) in meta)
                        metadata[k] = v is JsonValue jv && jv.TryGetValue(out string? s) ? s : v?.ToJsonString() ?? "";
                continue;
            }
            try
            {
                var obj = node as JsonObject ?? throw new FormatException("entry is not an object");
                string dtype = obj["dtype"]?.GetValue<string>() ?? throw new FormatException("missing dtype");
                var shape = (obj["shape"] as JsonArray ?? throw new FormatException("missing shape"))
                    .Select(s => s?.GetValue<long>() ?? throw new FormatException("null in shape")).ToArray();
                var offs = obj["data_offsets"] as JsonArray ?? throw new FormatException("missing data_offsets");
                if (offs.Count != 2) throw new FormatException("data_offsets must have 2 entries");
                long begin = offs[0]?.GetValue<long>() ?? throw new FormatException("null in data_offsets");
                long end = offs[1]?.GetValue<long>() ?? throw new FormatException("null in data_offsets");
                int size = ElementSize(dtype) ?? throw new FormatException($"dtype '{dtype}' is not supported (F64, F32, F16, BF16)");
                long count = 1;
                foreach (var d in shape)
                {
                    if (d < 0) throw new FormatException($"negative dimension {d}");
                    count = checked(count * d);
                }
                if (begin < 0 || end < begin || end > dataLen)
                    throw new FormatException($"data_offsets [{begin}, {end}) outside the {dataLen} data bytes");
                if (checked(count * size) != end - begin)
                    throw new FormatException($"shape [{string.Join(",", shape)}] × {size} bytes ≠ {end - begin} bytes");
                if (count > int.MaxValue) throw new FormatException("tensor too large");
                entries.Add((name, dtype, shape, begin, end));
            }
            catch (Exception e)
                when (e is FormatException or InvalidOperationException or OverflowException or JsonException or ArgumentException)
            {
                throw new BadInputException($"{path}: tensor '{name}': {e.Message}.");
            }
        }
        var sorted = entries.OrderBy(e => e.Begin).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw new BadInputException($"{path}: tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap.");
        var tensors = new List<NamedTensor>();
        foreach (var e in entries)
        {
            var bytes = new byte[e.End - e.Begin];
            fs.Position = dataStart + e.Begin;
            fs.ReadExactly(bytes);
            tensors.Add(new NamedTensor(e.Name, e.DType, e.Shape, Decode(e.DType, bytes)));
        }
        return (tensors, metadata);
    }

    internal static int? ElementSize(string dtype) => dtype switch { "F64" => 8, "F32" => 4, "F16" or "BF16" => 2, _ => null };

    /// <summary>Little-endian elements of <paramref name="dtype"/> (F64, F32, F16, BF16) as float64.</summary>
    internal static double[] Decode(string dtype, ReadOnlySpan<byte> b)
    {
        int size = ElementSize(dtype)!.Value;
        var d = new double[b.Length / size];
        for (int i = 0; i < d.Length; i++)
        {
            var s = b.Slice(i * size, size);
            d[i] = dtype switch
            {
                "F64" => BinaryPrimitives.ReadDoubleLittleEndian(s),
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(s),
                "F16" => (double)BinaryPrimitives.ReadHalfLittleEndian(s),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(s) << 16),
            };
        }
        return d;
    }

    /// <summary>Writes tensors (float64 as F64, or F32 when <paramref name="float32"/>) with string metadata.</summary>
    public static void Write(string path, IReadOnlyList<(string Name, long[] Shape, ReadOnlyMemory<double> Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, bool float32 = false)
    {
        int size = float32 ? 4 : 8;
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header["__metadata__"] =
                new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        long offset = 0;
        foreach (var t in tensors)
        {
            long end = offset + (long)t.Data.Length * size;
            header[t.Name] = new JsonObject
            {
                ["dtype"] = float32 ? "F32" : "F64",
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, end),
            };
            offset = end;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int pad = (8 - json.Length % 8) % 8; // keep the data 8-byte aligned
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        Span<byte> buf = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(buf, (ulong)(json.Length + pad));
        fs.Write(buf);
        fs.Write(json);
        for (int i = 0; i < pad; i++) fs.WriteByte((byte)' ');
        foreach (var t in tensors)
            foreach (var v in t.Data.Span)
            {
                if (float32) BinaryPrimitives.WriteSingleLittleEndian(buf, (float)v);
                else BinaryPrimitives.WriteDoubleLittleEndian(buf, v);
                fs.Write(buf[..size]);
            }
    }
}

