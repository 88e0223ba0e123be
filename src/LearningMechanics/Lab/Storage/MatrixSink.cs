using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace LearningMechanics.Lab.Storage;

/// <summary>
/// Writes a matrix row block by row block to <c>.npy</c> (float64 or float32) or <c>.csv</c>, into a temporary file
/// that replaces the target only on <see cref="Commit"/>: an interrupted or failed computation leaves no half-written
/// output.
/// </summary>
public sealed class MatrixSink : IDisposable
{
    private readonly string path;
    private readonly string temp;
    private readonly FileStream stream;
    private readonly bool npy;
    private readonly bool float32;
    private readonly long rows;
    private readonly long cols;
    private long written;
    private float[]? chunk;
    private bool committed;

    public MatrixSink(string path, long rows, long cols, bool float32 = false)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".npy" or ".csv")) throw new BadInputException($"Output '{path}' must end in .npy or .csv.");
        this.path = path; npy = ext == ".npy"; this.float32 = float32; this.rows = rows; this.cols = cols;
        temp = path + $".partial-{Environment.ProcessId}";
        RemoveOrphans(path);
        try
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new BadInputException($"Cannot write '{path}': {e.Message}");
        }
        if (npy) stream.Write(Npy.Header(rows, cols, float32));
    }

    /// <summary>Appends <paramref name="count"/> rows stored row-major in <paramref name="block"/>.</summary>
    public void WriteRows(ReadOnlySpan<double> block, int count)
    {
        if (written + count > rows) throw new InvalidOperationException($"Writing {written + count} rows into a {rows}-row matrix.");
        if (npy)
        {
            // NPY data are little-endian ('<f8', '<f4'): on a little-endian machine the doubles go out as they are, in
            // chunks; float32 is converted a chunk at a time into one reused buffer.
            var data = block[..checked((int)(count * cols))];
            if (!BitConverter.IsLittleEndian) WriteBigEndianHost(data);
            else if (!float32) stream.Write(MemoryMarshal.AsBytes(data));
            else
            {
                chunk ??= new float[1 << 16];
                for (int i = 0; i < data.Length; i += chunk.Length)
                {
                    var part = data.Slice(i, Math.Min(chunk.Length, data.Length - i));
                    for (int j = 0; j < part.Length; j++) chunk[j] = (float)part[j];
                    stream.Write(MemoryMarshal.AsBytes(chunk.AsSpan(0, part.Length)));
                }
            }
        }
        else
        {
            var sb = new StringBuilder();
            for (int r = 0; r < count; r++)
            {
                for (long c = 0; c < cols; c++)
                {
                    if (c > 0) sb.Append(',');
                    double v = block[(int)(r * cols + c)];
                    sb.Append(float32
                        ? ((float)v).ToString("R", CultureInfo.InvariantCulture)
                        : v.ToString("R", CultureInfo.InvariantCulture));
                }
                sb.Append('\n');
            }
            stream.Write(Encoding.ASCII.GetBytes(sb.ToString()));
        }
        written += count;
    }

    /// <summary>Checks that every row was written and moves the file into place.</summary>
    private void WriteBigEndianHost(ReadOnlySpan<double> data)
    {
        var buf = new byte[float32 ? 4 : 8];
        foreach (double v in data)
        {
            if (float32) BinaryPrimitives.WriteSingleLittleEndian(buf, (float)v);
            else BinaryPrimitives.WriteDoubleLittleEndian(buf, v);
            stream.Write(buf);
        }
    }

    /// <summary>Deletes <c>PATH.partial-PID</c> files of processes that no longer run (a killed or crashed earlier write to the
    /// same path, e.g. 10 GB of a streamed kernel); those of running processes are left alone.</summary>
    private static void RemoveOrphans(string path)
    {
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (dir is null || !Directory.Exists(dir)) return;
        string prefix = Path.GetFileName(full) + ".partial-";
        foreach (var file in Directory.GetFiles(dir, prefix + "*"))
            if (int.TryParse(Path.GetFileName(file)[prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && pid != Environment.ProcessId && !ProcessRuns(pid))
                try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static bool ProcessRuns(int pid)
    {
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    public void Commit()
    {
        if (written != rows) throw new InvalidOperationException($"Only {written} of {rows} rows were written.");
        stream.Flush();
        stream.Dispose();
        File.Move(temp, path, overwrite: true);
        committed = true;
    }

    public void Dispose()
    {
        stream.Dispose();
        if (!committed && File.Exists(temp)) File.Delete(temp);
    }
}
