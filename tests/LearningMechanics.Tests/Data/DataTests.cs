using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Data;

public class DataTests
{
    private static string Temp(byte[] content, bool gzip = false)
    {
        var path = Path.GetTempFileName();
        if (gzip)
        {
            using var fs = File.Create(path);
            using var gz = new GZipStream(fs, CompressionLevel.Fastest);
            gz.Write(content);
        }
        else File.WriteAllBytes(path, content);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IdxRoundTripsUnsignedBytesAndBigEndianFloats(bool gzip)
    {
        var a = Idx.Read(Temp(FileBytes.Idx(0x08, [2, 3], [0, 1, 2, 250, 254, 255]), gzip));
        Assert.Equal([2, 3], a.Dims);
        Assert.Equal([0.0, 1, 2, 250, 254, 255], a.Data);
        var f = new byte[8]; BinaryPrimitives.WriteDoubleBigEndian(f, -1.25);
        Assert.Equal(-1.25, Idx.Read(Temp(FileBytes.Idx(0x0E, [1], f), gzip)).Data[0]);
    }

    [Fact]
    public void CorruptIdxFilesFailCleanlyWithoutAllocatingTheDeclaredSize()
    {
        // Declares 2·10⁸ bytes but holds 3: must fail on the data it has, not allocate 200 MB first.
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<BadInputException>(() => Idx.Read(Temp(FileBytes.Idx(0x08, [20000, 10000], [1, 2, 3]), gzip: true)));
        Assert.Contains("truncated", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000);
        Assert.Contains("type code", Assert.Throws<BadInputException>(() => Idx.Read(Temp(FileBytes.Idx(0x07, [1], [1])))).Message);
        Assert.Contains("more than", Assert.Throws<BadInputException>(() =>
            Idx.Read(Temp(FileBytes.Idx(0x08, [int.MaxValue, int.MaxValue], [])))).Message);
        Assert.Contains("negative", Assert.Throws<BadInputException>(() => Idx.Read(Temp(FileBytes.Idx(0x08, [-1], [])))).Message);
        Assert.Throws<BadInputException>(() => Idx.Read(Temp([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7])));
        Assert.Throws<BadInputException>(() => Idx.Read(Temp([1, 2])));
        Assert.Throws<BadInputException>(() => Idx.Read("/nonexistent/file.idx"));
    }

    [SkippableFact]
    public void FashionMnistLoadsFromTheDebianPackage()
    {
        Skip.IfNot(FashionMnist.Available(), "dataset-fashion-mnist not installed");
        var train = FashionMnist.Load("train", 200);
        Assert.Equal(200, train.Count);
        Assert.Equal(784, train.InputDim);
        Assert.Equal(10, train.OutputDim);
        Assert.All(train.X.Data, v => Assert.InRange(v, 0, 1));
        // The first training image of Fashion-MNIST is an ankle boot (class 9), the first test image too.
        Assert.Equal(9, train.Labels![0]);
        Assert.Equal(9, FashionMnist.Load("test", 1).Labels![0]);
        Assert.Equal(1.0, train.Y.Row(0)[9]);
        Assert.Contains("split", Assert.Throws<BadInputException>(() => FashionMnist.Load("validation")).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NetworkWeightsRoundTripThroughSafetensors(bool float32)
    {
        var spec = NetworkSpec.Parse("dense(6)-res(relu-dense(6),0.5)-layernorm-dense(2)", Parameterization.MuP);
        var path = Path.GetTempFileName();
        if (float32)
        {
            var a = new Network<float>(spec, 3); a.Initialize(new Rng(1)); NetworkWeights.Save(a, path);
            var b = new Network<float>(spec, 3); NetworkWeights.Load(b, path);
            Assert.Equal(a.Parameters, b.Parameters);
        }
        else
        {
            var a = new Network<double>(spec, 3); a.Initialize(new Rng(1)); NetworkWeights.Save(a, path);
            var b = new Network<double>(spec, 3); NetworkWeights.Load(b, path);
            Assert.Equal(a.Parameters, b.Parameters);
            var (tensors, meta) = SafeTensors.Read(path);
            Assert.Equal(["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias"],
                tensors.Select(t => t.Name));
            Assert.Equal([6L, 3], tensors[0].Shape);
            Assert.Equal("mup", meta["param"]);
        }
    }


    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,24]}}", 16, "outside")]
    [InlineData("{\"a\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[0,16]}}", 16, "bytes")]
    [InlineData("{\"a\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 16, "not supported")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}," +
        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 16, "overlap")]
    [InlineData("{\"a\":{\"dtype\":\"F64\",\"shape\":[-2],\"data_offsets\":[0,16]}}", 16, "negative")]
    [InlineData("[1,2,3]", 0, "JSON object")]
    [InlineData("{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,16]}}", 16, "tensor 'a'")]
    [InlineData("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}," +
        "\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}", 16, "distinct tensor names")]
    [InlineData("{\"a\":{\"dtype\":\"F64\",\"shape\":[null],\"data_offsets\":[0,16]}}", 16, "null in shape")]
    [InlineData("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[null,16]}}", 16, "null in data_offsets")]
    public void CorruptSafetensorsFilesAreRejectedWithTheReason(string header, int dataBytes, string reason)
    {
        var e = Assert.Throws<BadInputException>(() => SafeTensors.Read(Temp(FileBytes.Safetensors(header, dataBytes))));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void SafetensorsHeaderLengthLargerThanTheFileIsRejected()
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(b, ulong.MaxValue / 2);
        Assert.Contains("header length", Assert.Throws<BadInputException>(() => SafeTensors.Read(Temp(b))).Message);
    }

    [Fact]
    public void WeightsOfAnotherArchitectureAreRejectedNamingTheTensor()
    {
        var path = Path.GetTempFileName();
        var a = new Network<double>(NetworkSpec.Parse("dense(6)-relu-dense(2)"), 3); a.Initialize(new Rng(1)); NetworkWeights.Save(a, path);
        var e = Assert.Throws<BadInputException>(() =>
            NetworkWeights.Load(new Network<double>(NetworkSpec.Parse("dense(5)-relu-dense(2)"), 3), path));
        Assert.Contains("layers.0.weight", e.Message);
        e = Assert.Throws<BadInputException>(() =>
            NetworkWeights.Load(new Network<double>(NetworkSpec.Parse("dense(6)-relu-dense(6)-relu-dense(2)"), 3), path));
        Assert.Contains("layers.1.weight", e.Message);
    }

    [Fact]
    public void LabelsOutOfRangeAreNamed()
    {
        var e = Assert.Throws<BadInputException>(() => Dataset.Classification(new Matrix(3, 2), [0, 5, 1], 3));
        Assert.Contains("Label 5 at row 1", e.Message);
    }

    [Fact]
    public void PowerLawInputsHaveTheRequestedCovarianceSpectrum()
    {
        var x = Synthetic.PowerLawInputs(20000, 5, 1.5, new Rng(3));
        for (int j = 0; j < 5; j++)
        {
            double v = 0; for (int i = 0; i < x.Rows; i++) v += x[i, j] * x[i, j];
            v /= x.Rows;
            double expected = Math.Pow(j + 1, -1.5);
            double se = expected * Math.Sqrt(2.0 / x.Rows);
            Assert.True(Math.Abs(v - expected) < 4 * se, $"coordinate {j}: variance {v}, expected {expected}");
        }
    }

    [Fact]
    public void GaussianMixtureIsBalancedAndSeparated()
    {
        var d = Synthetic.GaussianMixture(300, 10, 3, 3.0, new Rng(1));
        Assert.Equal([100, 100, 100], d.Labels!.GroupBy(l => l).OrderBy(g => g.Key).Select(g => g.Count()));
    }
}
