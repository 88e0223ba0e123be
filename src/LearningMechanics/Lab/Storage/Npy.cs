using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Storage;

/// <summary>
/// NumPy <c>.npy</c> files (format versions 1–3): 1-D or 2-D float64/float32 arrays, either byte order, C or Fortran
/// order. The reader checks the header against the file size before allocating, so malformed or hostile files fail
/// with a <see cref="BadInputException"/> and never allocate more than the file holds.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int MaxHeader = 1 << 20;

    public static Matrix Read(string path)
    {
        using var fs = OpenForRead(path);
        var head = new byte[10];
        if (fs.Read(head, 0, 10) < 10 || !head.AsSpan(0, 6).SequenceEqual(Magic))
            throw new BadInputException($"{path}: not a .npy file (missing the \\x93NUMPY magic).");
        int major = head[6];
        long headerLen;
        int prefix;
        if (major == 1) { headerLen = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(8)); prefix = 10; }
        else if (major is 2 or 3)
        {
            var extra = new byte[2];
            if (fs.Read(extra, 0, 2) < 2) throw new BadInputException($"{path}: truncated .npy header.");
            headerLen = BinaryPrimitives.ReadUInt32LittleEndian([head[8], head[9], extra[0], extra[1]]);
            prefix = 12;
        }
        else throw new BadInputException($"{path}: unsupported .npy format version {major}.{head[7]} (1, 2 and 3 are supported).");
        if (headerLen > MaxHeader || headerLen > fs.Length - prefix)
            throw new BadInputException($"{path}: .npy header length {headerLen} is larger than the file allows.");
        var headerBytes = new byte[headerLen];
        fs.ReadExactly(headerBytes);
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        var descr = DescrRegex().Match(header);
        var fortran = FortranRegex().Match(header);
        var shape = ShapeRegex().Match(header);
        if (!descr.Success || !fortran.Success || !shape.Success)
            throw new BadInputException($"{path}: malformed .npy header '{header.Trim()}'.");
        string type = descr.Groups[1].Value;
        (int size, bool bigEndian) = type switch
        {
            "<f8" or "=f8" => (8, false), ">f8" => (8, true),
            "<f4" or "=f4" => (4, false), ">f4" => (4, true),
            _ => throw new BadInputException($"{path}: dtype '{type}' is not supported (float64 or float32 expected)."),
        };
        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v
                : throw new BadInputException($"{path}: bad shape entry '{d}'.")).ToArray();
        if (dims.Length is < 1 or > 2) throw new BadInputException($"{path}: array has {dims.Length} dimensions; 1 or 2 expected.");
        long rows = dims[0];
        long cols = dims.Length == 2 ? dims[1] : 1;
        long count = rows * cols;
        if (rows > int.MaxValue || cols > int.MaxValue || count > int.MaxValue / 2 || count * size != fs.Length - fs.Position)
            throw new BadInputException($"{path}: shape ({string.Join(", ", dims)}) × {size} bytes does not match the " +
                $"{fs.Length - fs.Position} data bytes in the file.");

        var raw = new byte[count * size];
        fs.ReadExactly(raw);
        var data = new double[count];
        for (long i = 0; i < count; i++)
        {
            var b = raw.AsSpan((int)(i * size), size);
            data[i] = size == 8
                ? (bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b))
                : (bigEndian ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b));
        }
        var m = new Matrix((int)rows, (int)cols, data);
        return fortran.Groups[1].Value == "True" ? new Matrix((int)cols, (int)rows, data).Transposed() : m;
    }

    internal static FileStream OpenForRead(string path)
    {
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new BadInputException($"Cannot read '{path}': {e.Message}");
        }
    }

    /// <summary>The header of a C-order 2-D array, padded so the data starts at a multiple of 64 bytes (format 1.0).</summary>
    internal static byte[] Header(long rows, long cols, bool float32)
    {
        string dict = FormattableString.Invariant(
            $"{{'descr': '{(float32 ? "<f4" : "<f8")}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string text = dict + new string(' ', pad) + "\n";
        var bytes = new byte[10 + text.Length];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1; bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)text.Length);
        Encoding.Latin1.GetBytes(text).CopyTo(bytes, 10);
        return bytes;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")] private static partial Regex DescrRegex();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")] private static partial Regex FortranRegex();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")] private static partial Regex ShapeRegex();
}
