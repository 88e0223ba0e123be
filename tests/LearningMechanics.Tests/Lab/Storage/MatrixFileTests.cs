using System.Buffers.Binary;
using System.Text;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Lab.Storage;

/// <summary>NPY and CSV matrices: round trips, numpy interoperability, and malformed or hostile files.</summary>
public class MatrixFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("lmech-io-").FullName;
    public void Dispose() => Directory.Delete(dir, true);
    private string P(string name) => Path.Combine(dir, name);

    [Theory]
    [InlineData("m.npy", false)]
    [InlineData("m.npy", true)]
    [InlineData("m.csv", false)]
    public void SinkWritesWhatTheReadersRead(string name, bool float32)
    {
        var m = new Matrix(5, 3);
        new Rng(1).FillGaussian(m.Data);
        using (var sink = new MatrixSink(P(name), 5, 3, float32))
        {
            sink.WriteRows(m.Data.AsSpan(0, 6), 2);
            sink.WriteRows(m.Data.AsSpan(6), 3);
            sink.Commit();
        }
        var back = name.EndsWith(".npy") ? Npy.Read(P(name)) : CsvMatrix.Read(P(name));
        Assert.Equal(5, back.Rows); Assert.Equal(3, back.Cols);
        for (int i = 0; i < 15; i++) Assert.Equal(float32 ? (float)m.Data[i] : m.Data[i], back.Data[i]);
    }

    /// <summary>Blocks larger than the float32 conversion chunk (65 536 values), written in unequal pieces.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LargeBlocksRoundTrip(bool float32)
    {
        var m = new Matrix(400, 401);
        new Rng(2).FillGaussian(m.Data);
        using (var sink = new MatrixSink(P("big.npy"), 400, 401, float32))
        {
            sink.WriteRows(m.Data.AsSpan(0, 7 * 401), 7);
            sink.WriteRows(m.Data.AsSpan(7 * 401), 393);
            sink.Commit();
        }
        var back = Npy.Read(P("big.npy"));
        for (int i = 0; i < m.Data.Length; i++) Assert.Equal(float32 ? (float)m.Data[i] : m.Data[i], back.Data[i]);
    }

    /// <summary>A European CSV (decimal commas, semicolon separators) is refused naming the line, not read as twice the
    /// columns.</summary>
    [Fact]
    public void DecimalCommasWithSemicolonsAreRefused()
    {
        File.WriteAllText(P("de.csv"), "x;y\n1,5;2,5\n3,5;4,5\n");
        var e = Assert.Throws<BadInputException>(() => CsvMatrix.Read(P("de.csv")));
        Assert.Contains("line 2", e.Message);
        Assert.Contains("decimal comma", e.Message);
    }

    /// <summary>A killed run's partial file is removed by the next write to the same path; a running process's is kept.</summary>
    [Fact]
    public void OrphanedPartialFilesOfDeadProcessesAreRemoved()
    {
        Directory.CreateDirectory(dir);
        string dead = P("K.npy") + ".partial-2147483646";    // no such process
        string alive = P("K.npy") + ".partial-1";            // init
        File.WriteAllText(dead, "half a matrix");
        File.WriteAllText(alive, "someone else's");
        using (var sink = new MatrixSink(P("K.npy"), 1, 1)) { sink.WriteRows(new double[1], 1); sink.Commit(); }
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(alive));
        Assert.True(File.Exists(P("K.npy")));
    }

    [Fact]
    public void AnUncommittedSinkLeavesNothingBehind()
    {
        using (var sink = new MatrixSink(P("half.npy"), 4, 2)) sink.WriteRows(new double[4], 2);
        Assert.Empty(Directory.GetFiles(dir));
        using var s2 = new MatrixSink(P("short.csv"), 4, 2);
        s2.WriteRows(new double[2], 1);
        Assert.Throws<InvalidOperationException>(() => s2.Commit());
    }

    [Fact]
    public void ReadsBigEndianFortranOrderAndVersionTwoFiles()
    {
        var data = new byte[6 * 8];
        for (int i = 0; i < 6; i++) BinaryPrimitives.WriteDoubleBigEndian(data.AsSpan(i * 8), i + 1);
        File.WriteAllBytes(P("f.npy"), FileBytes.Npy("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }\n", data, 2));
        var m = Npy.Read(P("f.npy"));
        // Fortran order: column-major data 1..6 is [[1, 3, 5], [2, 4, 6]].
        Assert.Equal(new double[] { 1, 3, 5, 2, 4, 6 }, m.Data);
        var one = new byte[3 * 4];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteSingleLittleEndian(one.AsSpan(i * 4), i);
        File.WriteAllBytes(P("v.npy"), FileBytes.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", one));
        var v = Npy.Read(P("v.npy"));
        Assert.Equal(3, v.Rows); Assert.Equal(1, v.Cols);
    }

    public static IEnumerable<object[]> HostileNpy()
    {
        var eight = new byte[8];
        yield return [new byte[] { 1, 2, 3 }, "magic"];
        yield return [FileBytes.Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }\n", eight), "dtype"];
        yield return [FileBytes.Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000000), }\n", eight),
            "does not match"];
        yield return [FileBytes.Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n", eight), "does not match"];
        yield return [FileBytes.Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1), }\n", eight), "dimensions"];
        yield return [FileBytes.Npy("{'descr': '<f8', 'shape': (1,), }\n", eight), "malformed"];
        yield return [FileBytes.Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }\n", eight), "bad shape"];
        yield return [FileBytes.Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n", eight, 9), "version"];
        var lying = FileBytes.Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n", eight, 2);
        BinaryPrimitives.WriteUInt32LittleEndian(lying.AsSpan(8), 0xFFFFFFF0);   // header length far beyond the file
        yield return [lying, "header length"];
    }

    [Theory]
    [MemberData(nameof(HostileNpy))]
    public void MalformedNpyIsBadInputNotACrash(byte[] bytes, string message)
    {
        File.WriteAllBytes(P("bad.npy"), bytes);
        var e = Assert.Throws<BadInputException>(() => Npy.Read(P("bad.npy")));
        Assert.Contains(message, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("x,y\n1,2\n3\n", "line 3")]
    [InlineData("1,2\n3,abc\n", "line 2")]
    [InlineData("1,2\nNaN,1\n", "not finite")]
    [InlineData("# only a comment\n", "no numeric rows")]
    public void MalformedCsvNamesTheLine(string text, string message)
    {
        File.WriteAllText(P("bad.csv"), text);
        var e = Assert.Throws<BadInputException>(() => CsvMatrix.Read(P("bad.csv")));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void CsvAcceptsHeadersCommentsAndMixedSeparators()
    {
        File.WriteAllText(P("ok.csv"), "a b c\n# note\n1, 2, 3\n4\t5\t6\n\n7;8;9e-1\n");
        var m = CsvMatrix.Read(P("ok.csv"));
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 0.9 }, m.Data);
        Assert.Throws<BadInputException>(() => CsvMatrix.Read(P("missing.csv")));
    }
}
