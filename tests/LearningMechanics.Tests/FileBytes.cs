using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace LearningMechanics.Tests;

/// <summary>The bytes of small files in the formats lmech reads, built by hand for parser tests and fuzz seeds.</summary>
internal static class FileBytes
{
    /// <summary>An NPY file (version <paramref name="major"/>) with the given header dictionary text and data.</summary>
    public static byte[] Npy(string header, byte[] data, int major = 1)
    {
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        var h = Encoding.Latin1.GetBytes(header);
        if (major == 1) { bytes.Add((byte)(h.Length & 0xff)); bytes.Add((byte)(h.Length >> 8)); }
        else { var len = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)h.Length); bytes.AddRange(len); }
        bytes.AddRange(h); bytes.AddRange(data);
        return bytes.ToArray();
    }

    /// <summary>A safetensors file: the header's length, the header, and <paramref name="dataBytes"/> zero bytes.</summary>
    public static byte[] Safetensors(string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var b = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)h.Length);
        h.CopyTo(b, 8);
        return b;
    }

    /// <summary>An IDX file: type code, big-endian dimensions, payload.</summary>
    public static byte[] Idx(byte type, int[] dims, byte[] payload)
    {
        var b = new List<byte> { 0, 0, type, (byte)dims.Length };
        foreach (var d in dims) { var x = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(x, d); b.AddRange(x); }
        b.AddRange(payload);
        return [.. b];
    }

    public static byte[] Gzip(byte[] content)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(content);
        return ms.ToArray();
    }
}
