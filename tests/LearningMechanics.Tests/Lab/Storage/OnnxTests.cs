using System.Text.Json;
using Google.Protobuf;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Lab.Storage.OnnxSchema;
using LearningMechanics.Numerics;
using LearningMechanics.Tests.Cli;

namespace LearningMechanics.Tests.Lab.Storage;

/// <summary>
/// ONNX weights: models exported by PyTorch (python3-torch's torch.onnx) against the same weights saved by numpy; models
/// built here with every storage form (raw data, typed fields, FLOAT16 bits); hostile files refused naming the problem.
/// </summary>
[Collection("console")]
public class OnnxTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("lmech-onnx-").FullName;
    public void Dispose() => Directory.Delete(dir, true);
    private string P(string name) => Path.Combine(dir, name);

    /// <summary>A conv net exported as Conv + Gemm (transB = 1), and a linear layer on a 3-D input, exported as MatMul with
    /// its weight transposed; numpy saves PyTorch's weights (out × in, the conv kernel flattened) beside them.</summary>
    private const string Export = """
        import sys, torch, numpy as np
        d = sys.argv[1]
        torch.manual_seed(0)
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = torch.nn.Conv2d(2, 4, 3)
                self.fc1 = torch.nn.Linear(16, 6)
                self.fc2 = torch.nn.Linear(6, 3)
            def forward(self, x):
                return self.fc2(torch.tanh(self.fc1(torch.flatten(self.conv(x), 1))))
        net = Net().eval()
        torch.onnx.export(net, torch.zeros(1, 2, 4, 4), d + '/conv.onnx')
        np.save(d + '/conv.npy', net.conv.weight.detach().double().numpy().reshape(4, -1))
        np.save(d + '/fc1.npy', net.fc1.weight.detach().double().numpy())
        np.save(d + '/fc2.npy', net.fc2.weight.detach().double().numpy())
        lin = torch.nn.Linear(5, 7).eval()
        torch.onnx.export(lin, torch.zeros(1, 3, 5), d + '/matmul.onnx')
        np.save(d + '/lin.npy', lin.weight.detach().double().numpy())
        """;

    [SkippableFact]
    public void PyTorchExportsReadAsTheirWeights()
    {
        var python = ReferencePeers.TorchPython.Value;
        ReferencePeers.Require(python is not null, "python3 with torch not found (apt-get install python3-torch)");
        File.WriteAllText(P("export.py"), Export);
        Assert.NotNull(ReferencePeers.RunPython(python!, [P("export.py"), dir]));

        var conv = Onnx.ReadWeights(P("conv.onnx"));
        Assert.Equal(["Conv", "Gemm", "Gemm"], conv.Select(w => w.Op));
        AssertSame(Npy.Read(P("conv.npy")), conv[0].Matrix);
        AssertSame(Npy.Read(P("fc1.npy")), conv[1].Matrix);
        AssertSame(Npy.Read(P("fc2.npy")), conv[2].Matrix);
        var matmul = Assert.Single(Onnx.ReadWeights(P("matmul.onnx")));
        Assert.Equal("MatMul", matmul.Op);
        AssertSame(Npy.Read(P("lin.npy")), matmul.Matrix);

        var (code, stdout, err) = CliHarness.Run("spectra", P("conv.onnx"), "--json");
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal([[4, 18], [6, 16], [3, 6]], json.RootElement.GetProperty("matrices").EnumerateArray()
            .Select(m => m.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray()));
    }

    /// <summary>float32 weights widened to float64 are exact, so the comparison is too.</summary>
    private static void AssertSame(Matrix expected, Matrix actual)
    {
        Assert.Equal((expected.Rows, expected.Cols), (actual.Rows, actual.Cols));
        Assert.Equal(expected.Data, actual.Data);
    }

    private static TensorProto Tensor(string name, int type, long[] dims) => new() { Name = name, DataType = type, Dims = { dims } };

    /// <summary>A model in every storage form: Gemm without transB (raw float), MatMul (float_data), Conv (raw double),
    /// FLOAT16 bits in int32_data, an int64 initialiser (skipped) and an unused 2-D one (kept as stored).</summary>
    internal static ModelProto Model()
    {
        var gemm = Tensor("gemm.B", 1, [3, 2]);
        gemm.RawData = ByteString.CopyFrom([.. new float[] { 1, 2, 3, 4, 5, 6 }.SelectMany(BitConverter.GetBytes)]);
        var matmul = Tensor("mm.W", 1, [2, 2]);
        matmul.FloatData.Add([1.5f, -2, 0.25f, 8]);
        var conv = Tensor("conv.W", 11, [2, 1, 2, 2]);
        conv.RawData = ByteString.CopyFrom([.. Enumerable.Range(0, 8).Select(i => i * 0.5).SelectMany(BitConverter.GetBytes)]);
        var half = Tensor("half", 10, [2, 2]);
        half.Int32Data.Add([.. new[] { 1.0, -2.0, 0.5, 65504 }.Select(v => (int)BitConverter.HalfToUInt16Bits((Half)v))]);
        var shape = Tensor("shape", 7, [2]);
        shape.Int64Data.Add([4, 5]);
        var graph = new GraphProto { Name = "g", Initializer = { gemm, matmul, conv, half, shape } };
        graph.Node.Add(new NodeProto
            { OpType = "Gemm", Name = "n0", Input = { "x", "gemm.B" }, Attribute = { new AttributeProto { Name = "transA" } } });
        graph.Node.Add(new NodeProto { OpType = "MatMul", Name = "n1", Input = { "h", "mm.W" } });
        graph.Node.Add(new NodeProto { OpType = "Conv", Name = "n2", Input = { "img", "conv.W" } });
        graph.Node.Add(new NodeProto { OpType = "Reshape", Name = "n3", Input = { "y", "shape" } });
        return new ModelProto { IrVersion = 8, ProducerName = "lmech-test", Graph = graph };
    }

    [Fact]
    public void EveryStorageFormAndOperatorMapsToAnOutputsByInputsMatrix()
    {
        File.WriteAllBytes(P("m.onnx"), Model().ToByteArray());
        var w = Onnx.ReadWeights(P("m.onnx")).ToDictionary(x => x.Name);
        Assert.Equal(["gemm.B", "mm.W", "conv.W", "half"], Onnx.ReadWeights(P("m.onnx")).Select(x => x.Name));
        // Gemm without transB computes x·B: B (3 × 2) is (in × out), so the weight is Bᵀ, 2 × 3.
        Assert.Equal((2, 3), (w["gemm.B"].Matrix.Rows, w["gemm.B"].Matrix.Cols));
        Assert.Equal([1.0, 3, 5, 2, 4, 6], w["gemm.B"].Matrix.Data);
        Assert.Equal([1.5, 0.25, -2, 8], w["mm.W"].Matrix.Data);
        Assert.Equal((2, 4), (w["conv.W"].Matrix.Rows, w["conv.W"].Matrix.Cols));
        Assert.Equal([0.0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5], w["conv.W"].Matrix.Data);
        Assert.Equal("", w["half"].Op);
        Assert.Equal([1.0, -2, 0.5, 65504], w["half"].Matrix.Data);
        Assert.DoesNotContain(Onnx.ReadInitializers(P("m.onnx")), t => t.Name == "shape");
    }

    public static IEnumerable<object[]> Hostile()
    {
        var bytes = Model().ToByteArray();
        yield return [bytes[..(bytes.Length / 2)], "not a valid ONNX file"];
        yield return [new byte[] { 1, 2, 3 }, "ONNX"];
        var m = Model();
        m.Graph.Initializer[1].FloatData.Add(9);
        yield return [m.ToByteArray(), "5 values for shape [2,2]"];
        m = Model();
        m.Graph.Initializer[0].Dims[0] = -3;
        yield return [m.ToByteArray(), "negative dimension"];
        m = Model();
        m.Graph.Initializer[0].Dims.Add(1L << 40);
        yield return [m.ToByteArray(), "shape too large"];
        m = Model();
        m.Graph.Initializer[2].Name = "gemm.B";
        yield return [m.ToByteArray(), "appears twice"];
        m = Model();
        m.Graph.Initializer[0].DataLocation = 1;
        m.Graph.Initializer[0].ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        yield return [m.ToByteArray(), "external file"];
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostileModelsAreRefusedNamingTheProblem(byte[] bytes, string message)
    {
        File.WriteAllBytes(P("bad.onnx"), bytes);
        Assert.Contains(message, Assert.Throws<BadInputException>(() => Onnx.ReadWeights(P("bad.onnx"))).Message);
        var (code, _, err) = CliHarness.Run("spectra", P("bad.onnx"));
        Assert.Equal(2, code);
        Assert.Contains("bad.onnx", err);
    }
}
