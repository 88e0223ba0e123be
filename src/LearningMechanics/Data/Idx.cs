using System.Buffers.Binary;
using System.IO.Compression;

namespace LearningMechanics.Data;

/// <summary>
/// The IDX format of (Fashion-)MNIST (LeCun et al. 1998): bytes 0, 0, a type code (0x08 ubyte, 0x09 sbyte, 0x0B int16,
/// 0x0C int32, 0x0D float32, 0x0E float64) and the number of dimensions, then each dimension as a big-endian int32, then
/// the big-endian data; optionally gzip-compressed (detected by its magic). The reader bounds the declared size
/// (≤ <see cref="MaxElements"/> elements) and only holds as many bytes as the stream actually delivers, so corrupt,
/// truncated or hostile files (including gzip bombs) fail with a <see cref="BadInputException"/>.
/// </summary>
public static class Idx
{
    public const long MaxElements = 500_000_000;

    public sealed record Array(int[] Dims, double[] Data)
    {
        public long Count => Data.LongLength;
    }

    /// <summary>An IDX file's dimensions and undecoded big-endian data (<see cref="ElementSize"/> bytes an element); rows
    /// are decoded on demand, so a subset of a large file never costs a double per element of the whole.</summary>
    public sealed class Raw(int[] dims, byte type, byte[] bytes)
    {
        public int[] Dims { get; } = dims;
        public long Count => bytes.LongLength / ElementSize;
        public int ElementSize { get; } = Size(type);

        /// <summary>Elements per row: the product of all dimensions but the first.</summary>
        public int RowLength => Dims.Skip(1).Aggregate(1, (a, b) => a * b);

        /// <summary>Decodes elements start…start + destination.Length − 1 into <paramref name="destination"/>.</summary>
        public void Decode(long start, Span<double> destination)
        {
            var raw = bytes.AsSpan((int)(start * ElementSize), destination.Length * ElementSize);
            switch (type)
            {
                case 0x08:
                    for (int i = 0; i < destination.Length; i++) destination[i] = raw[i];
                    break;
                case 0x09:
                    for (int i = 0; i < destination.Length; i++) destination[i] = (sbyte)raw[i];
                    break;
                default:
                    for (int i = 0; i < destination.Length; i++)
                    {
                        var e = raw.Slice(i * ElementSize, ElementSize);
                        destination[i] = type switch
                        {
                            0x0B => BinaryPrimitives.ReadInt16BigEndian(e),
                            0x0C => BinaryPrimitives.ReadInt32BigEndian(e),
                            0x0D => BinaryPrimitives.ReadSingleBigEndian(e),
                            _ => BinaryPrimitives.ReadDoubleBigEndian(e),
                        };
                    }
                    break;
            }
        }

        /// <summary>All elements decoded.</summary>
        public Array ToArray()
        {
            var data = new double[Count];
            Decode(0, data);
            return new Array(Dims, data);
        }
    }

    private static int Size(byte type) => type switch
    {
        0x08 or 0x09 => 1,
        0x0B => 2,
        0x0C or 0x0D => 4,
        _ => 8,
    };

    public static Array Read(string path) => ReadRaw(path).ToArray();

    /// <summary>Reads and checks the file like <see cref="Read(string)"/> but leaves the data undecoded.</summary>
    public static Raw ReadRaw(string path)
    {
        FileStream file;
        try { file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new BadInputException($"Cannot read '{path}': {e.Message}");
        }
        using (file)
        {
            var magic = new byte[2];
            int got = file.Read(magic, 0, 2);
            file.Position = 0;
            Stream s = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
            try { return Read(s, path); }
            catch (InvalidDataException e) { throw new BadInputException($"{path}: corrupt gzip data ({e.Message})."); }
            finally { if (s != file) s.Dispose(); }
        }
    }

    private static Raw Read(Stream s, string path)
    {
        var head = new byte[4];
        if (ReadFully(s, head) < 4 || head[0] != 0 || head[1] != 0)
            throw new BadInputException($"{path}: not an IDX file (the first two bytes must be zero).");
        int size = head[2] switch
        {
            0x08 or 0x09 => 1,
            0x0B => 2,
            0x0C or 0x0D => 4,
            0x0E => 8,
            _ => throw new BadInputException($"{path}: unknown IDX type code 0x{head[2]:X2} (allowed 08, 09, 0B, 0C, 0D, 0E)."),
        };
        int nd = head[3];
        if (nd is < 1 or > 8) throw new BadInputException($"{path}: IDX file declares {nd} dimensions (1…8 allowed).");
        var dimBytes = new byte[4 * nd];
        if (ReadFully(s, dimBytes) < dimBytes.Length) throw new BadInputException($"{path}: truncated IDX header.");
        var dims = new int[nd];
        long count = 1;
        for (int i = 0; i < nd; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(4 * i));
            if (dims[i] < 0) throw new BadInputException($"{path}: IDX dimension {i} is negative ({dims[i]}).");
            count *= dims[i];
            if (count > MaxElements) throw new BadInputException($"{path}: IDX file declares more than {MaxElements} elements.");
        }
        long bytes = count * size;
        // Read what the stream really holds (at most the declared size): a lying header cannot make us allocate more.
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        while (buffer.Length < bytes)
        {
            int n = s.Read(chunk, 0, (int)Math.Min(chunk.Length, bytes - buffer.Length));
            if (n == 0) break;
            buffer.Write(chunk, 0, n);
        }
        if (buffer.Length < bytes)
            throw new BadInputException(
                $"{path}: IDX data is truncated ({buffer.Length} of {bytes} bytes for dimensions [{string.Join(", ", dims)}]).");
        return new Raw(dims, head[2], buffer.ToArray());
    }

    private static int ReadFully(Stream s, byte[] buf)
    {
        int total = 0;
        while (total < buf.Length)
        {
            int n = s.Read(buf, total, buf.Length - total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
