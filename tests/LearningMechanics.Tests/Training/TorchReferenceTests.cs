using System.Diagnostics;
using System.Text.Json;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Training;

/// <summary>
/// Our float64 training against PyTorch (Debian's python3-torch) from the same initial weights and the same batches:
/// every batch loss must agree to 1e-8 relative. Skipped when no python3 with torch is found, failed instead under CI=true.
/// </summary>
public class TorchReferenceTests
{
    private static Lazy<string?> Python => ReferencePeers.TorchPython;

    public static IEnumerable<object[]> Cases() =>
    [
        ["dense(16)-tanh-dense(16)-relu-dense(3)", "sp", "gd", "mse", 0, 0.0],
        ["dense(16)-tanh-dense(16)-relu-dense(3)", "sp", "sgd", "mse", 8, 1e-3],
        ["dense(12)-res(relu-dense(12),0.5)-layernorm-tanh-dense(4)", "ntk", "momentum", "ce", 8, 0.0],
        ["dense(12)-relu-dense(12)-tanh-dense(3)", "mup", "adam", "mse", 8, 1e-2],
        ["dense(12)-relu-dense(12)-tanh-dense(3)", "mf", "sgd", "ce", 16, 0.0],
    ];

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void LossCurveMatchesPyTorch(string arch, string param, string optName, string lossName, int batch, double weightDecay)
    {
        ReferencePeers.Require(Python.Value is not null, "python3 with torch not found (apt-get install python3-torch)");
        var spec = NetworkSpec.Parse(arch, ParameterizationNames.Parse(param), 1.8, 0.1);
        var net = new Network<double>(spec, 5);
        net.Initialize(new Rng(3));
        int n = 32;
        int classes = net.OutputDim;
        var x = TestData.RandomMatrix(n, 5, 4);
        var rng = new Rng(5);
        var data = lossName == "ce"
            ? Dataset.Classification(x, Enumerable.Range(0, n).Select(_ => rng.NextInt(classes)).ToArray(), classes)
            : new Dataset(x, TestData.RandomMatrix(n, classes, 6));
        var kind = OptimizerSettings.ParseKind(optName);
        var opt = new OptimizerSettings(kind, kind == OptimizerKind.Adam ? 0.01 : 0.05, WeightDecay: weightDecay);

        var dir = Directory.CreateTempSubdirectory("lmech-torch").FullName;
        NetworkWeights.Save(net, Path.Combine(dir, "weights.safetensors"));
        WriteNpy(Path.Combine(dir, "x.npy"), data.X); WriteNpy(Path.Combine(dir, "y.npy"), data.Y);

        var batches = new List<int[]>();
        var result = new Trainer<double>(net, data, new TrainingOptions(Loss.Parse(lossName), opt, 25, batch, Seed: 7))
            .Run(s => batches.Add([.. s.BatchRows]));
        Assert.Equal(TrainingStatus.Completed, result.Status);

        var job = new Dictionary<string, object>
        {
            ["ops"] = Ops(net), ["optimizer"] = optName, ["lr"] = opt.LearningRate, ["momentum"] = opt.Momentum,
            ["beta1"] = opt.Beta1, ["beta2"] = opt.Beta2, ["eps"] = opt.Epsilon, ["weight_decay"] = weightDecay,
            ["loss"] = lossName, ["batches"] = batches,
            ["lr_factors"] = net.Tensors.ToDictionary(t => t.Name, t => kind == OptimizerKind.Adam ? t.Rule.AdamFactor : t.Rule.SgdFactor),
        };
        File.WriteAllText(Path.Combine(dir, "job.json"), JsonSerializer.Serialize(job));
        var script = Path.Combine(AppContext.BaseDirectory, "Reference", "train_torch.py");
        var output = ReferencePeers.RunPython(Python.Value!, [script, dir]) ?? throw new Exception("the torch reference script failed");
        var torchLosses = JsonSerializer.Deserialize<double[]>(output)!;
        Assert.Equal(result.Losses.Count, torchLosses.Length);
        for (int t = 0; t < torchLosses.Length; t++)
            Assert.True(Math.Abs(result.Losses[t] - torchLosses[t]) <= 1e-8 * Math.Abs(torchLosses[t]),
                $"step {t}: lmech {result.Losses[t]:R}, torch {torchLosses[t]:R}");
        Directory.Delete(dir, true);
    }

    /// <summary>The architecture as flat ops with each dense layer's multipliers (the Python side knows no parameterisation).</summary>
    private static List<Dictionary<string, object>> Ops(Network<double> net)
    {
        var ops = new List<Dictionary<string, object>>();
        int dense = 0;
        void Add(IEnumerable<Layer> layers)
        {
            foreach (var l in layers)
                switch (l)
                {
                    case Dense:
                        var w = net.Tensors[2 * dense];
                        var b = net.Tensors[2 * dense + 1];
                        dense++;
                        ops.Add(new()
                        {
                            ["kind"] = "dense", ["weight"] = w.Name, ["bias"] = b.Name,
                            ["mw"] = w.Rule.Multiplier, ["mb"] = b.Rule.Multiplier,
                        });
                        break;
                    case ActivationLayer a: ops.Add(new() { ["kind"] = a.Activation.Name }); break;
                    case LayerNorm: ops.Add(new() { ["kind"] = "layernorm" }); break;
                    case Residual r:
                        ops.Add(new() { ["kind"] = "skip" });
                        Add(r.Block);
                        ops.Add(new() { ["kind"] = "add", ["scale"] = r.BranchScale });
                        break;
                }
        }
        Add(net.Spec.Layers);
        return ops;
    }

    private static void WriteNpy(string path, Matrix m)
    {
        using var fs = File.Create(path);
        fs.Write(Npy.Header(m.Rows, m.Cols, false));
        foreach (var v in m.Data) fs.Write(BitConverter.GetBytes(v));
    }
}
