using System.Globalization;
using System.Text.Json;
using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Cli;

/// <summary><c>lmech train</c> and <c>lmech spectra</c> end to end: files written, divergence recorded, bad input named.</summary>
[Collection("console")]
public class TrainCliTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"lmech-train-{Guid.NewGuid():N}");
    public void Dispose() { if (Directory.Exists(dir)) Directory.Delete(dir, true); }

    /// <summary>--save-every writes θ_t at every k-th step and at the end; the first is the initialisation (the same seed
    /// trained for 0 steps), the last the trained weights (--save), and lmech spectra reads the folder in step order.</summary>
    [Fact]
    public void CheckpointsAreTheWeightsAtTheirStepsAndSpectraFollowsThem()
    {
        string[] common = ["train", "--arch", "dense(16)-relu-dense(16)-relu-dense(1)", "--data", "teacher", "--n-train", "32",
            "--seed", "9", "--json"];
        string outDir = Path.Combine(dir, "out");
        string final = Path.Combine(dir, "final.safetensors");
        string init = Path.Combine(dir, "init.safetensors");
        Assert.Equal(0, CliHarness.Run([.. common, "--steps", "12", "--save-every", "5", "--save", final, "--out", outDir]).Code);
        Assert.Equal(0, CliHarness.Run([.. common, "--steps", "0", "--save", init, "--out", Path.Combine(dir, "zero")]).Code);
        string checkpoints = Path.Combine(outDir, "train", "checkpoints");
        Assert.Equal(["step-00", "step-05", "step-10", "step-12"],
            Directory.GetFiles(checkpoints).Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal));
        Assert.Equal(File.ReadAllBytes(init), File.ReadAllBytes(Path.Combine(checkpoints, "step-00.safetensors")));
        Assert.Equal(File.ReadAllBytes(final), File.ReadAllBytes(Path.Combine(checkpoints, "step-12.safetensors")));
        Assert.NotEqual(File.ReadAllBytes(init), File.ReadAllBytes(Path.Combine(checkpoints, "step-05.safetensors")));
        var (code, stdout, _) = CliHarness.Run("spectra", checkpoints, "--json");
        Assert.Equal(0, code);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        var files = doc.RootElement.GetProperty("checkpoints").EnumerateArray().Select(c => Path.GetFileName(c.GetProperty("file")
            .GetString()!)).ToList();
        Assert.Equal(["step-00.safetensors", "step-05.safetensors", "step-10.safetensors", "step-12.safetensors"], files);
        string svg = Path.Combine(dir, "spectra.svg");
        Assert.Equal(0, CliHarness.Run("spectra", checkpoints, "--plot", svg).Code);
        string plot = File.ReadAllText(svg);
        Assert.Contains("<svg", plot);
        Assert.Contains("training step", plot);
        Assert.Equal(2, CliHarness.Run("spectra", checkpoints, "--plot", Path.Combine(dir, "spectra.png")).Code);
        Assert.Equal(2, CliHarness.Run([.. common, "--steps", "3", "--save-every", "-1", "--out", outDir]).Code);
    }

    private string Csv(string name, Matrix m)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllLines(path, Enumerable.Range(0, m.Rows)
            .Select(i => string.Join(",", m.Row(i).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
        return path;
    }

    private (string X, string Y) Data(int n = 40, int d = 3, int k = 1)
    {
        var x = TestData.RandomMatrix(n, d, 1);
        var y = new Matrix(n, k);
        for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) y[i, j] = Math.Sin(x[i, 0] + j);
        return (Csv("x.csv", x), Csv("y.csv", y));
    }

    [Fact]
    public void TrainWritesTheLossSeriesSavesWeightsAndRestartsFromThem()
    {
        var (x, y) = Data();
        string w = Path.Combine(dir, "w.safetensors");
        string outDir = Path.Combine(dir, "out");
        var (code, stdout, err) = CliHarness.Run("train", "--arch", "dense(32)-tanh-dense(1)", "--param", "sp", "--opt", "sgd",
            "--batch", "8", "--lr", "0.05", "--steps", "60", "--x", x, "--y", y, "--save", w, "--out", outDir,
            "--observe", "ntk,sharpness,weights,conservation,density", "--json");
        Assert.True(code == 0, err);
        using var summary = JsonDocument.Parse(stdout);
        Assert.Equal("completed", summary.RootElement.GetProperty("status").GetString());
        using var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "train", "result.json")));
        var series = result.RootElement.GetProperty("series");
        Assert.Equal(60, series.GetProperty("step").GetArrayLength());
        var loss = series.GetProperty("loss").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.True(loss[^1] < loss[0]);
        Assert.True(series.GetProperty("observables").GetProperty("sharpness").GetArrayLength() >= 2);
        // SLQ's mean eigenvalue is tr H / P; at the same parameters it must agree with Hutchinson's estimate only statistically,
        // but it must be finite and the density plot must exist.
        Assert.All(series.GetProperty("observables").GetProperty("hessian_mean_eigenvalue").EnumerateArray(),
            e => Assert.True(double.IsFinite(e.GetDouble())));
        Assert.Contains("spectral density", File.ReadAllText(Path.Combine(outDir, "train", "report.html")));
        Assert.True(File.Exists(Path.Combine(outDir, "train", "report.html")));
        Assert.True(File.Exists(Path.Combine(outDir, "results.db")));
        double final = summary.RootElement.GetProperty("final_train_loss").GetDouble();
        // Zero steps from the saved weights: the final loss is the saved network's loss.
        (code, stdout, err) = CliHarness.Run("train", "--arch", "dense(32)-tanh-dense(1)", "--param", "sp", "--steps", "0",
            "--x", x, "--y", y, "--init", w, "--out", outDir, "--id", "again", "--json");
        Assert.True(code == 0, err);
        using var again = JsonDocument.Parse(stdout);
        Assert.Equal(final, again.RootElement.GetProperty("final_train_loss").GetDouble(), 1e-12);
        (code, stdout, err) = CliHarness.Run("spectra", w, "--json");
        Assert.True(code == 0, err);
        using var spectra = JsonDocument.Parse(stdout);
        // The 32×3 hidden layer only: the 1×32 readout has a single row, no spectrum.
        Assert.Equal(1, spectra.RootElement.GetProperty("matrices").GetArrayLength());
    }

    [Fact]
    public void DivergenceIsARecordedStatusNotAnError()
    {
        var (x, y) = Data();
        var (code, stdout, err) = CliHarness.Run("train", "--arch", "dense(64)-relu-dense(1)", "--param", "sp", "--lr", "500",
            "--steps", "200", "--x", x, "--y", y, "--out", Path.Combine(dir, "out"), "--json");
        Assert.True(code == 0, err);
        using var summary = JsonDocument.Parse(stdout);
        Assert.Equal("diverged", summary.RootElement.GetProperty("status").GetString());
        Assert.True(summary.RootElement.GetProperty("diverged_at_step").GetInt32() < 200);
        using var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "out", "train", "result.json")));
        Assert.Equal("diverged", result.RootElement.GetProperty("config").GetProperty("status").GetString());
    }

    [Fact]
    public void ClassificationWithIntegerLabelsTrainsWithCrossEntropy()
    {
        var x = TestData.RandomMatrix(60, 4, 3);
        var labels = new Matrix(60, 1);
        for (int i = 0; i < 60; i++) labels[i, 0] = x[i, 0] > 0 ? (x[i, 1] > 0 ? 2 : 1) : 0;
        var (code, stdout, err) = CliHarness.Run("train", "--arch", "dense(32)-relu-dense(3)", "--loss", "ce", "--opt", "adam",
            "--lr", "0.01", "--steps", "100", "--x", Csv("xc.csv", x), "--y", Csv("yc.csv", labels), "--out", Path.Combine(dir, "out"),
            "--observe", "accuracy,collapse", "--json");
        Assert.True(code == 0, err);
        using var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "out", "train", "result.json")));
        var acc = result.RootElement.GetProperty("series").GetProperty("observables").GetProperty("train_accuracy").EnumerateArray()
            .Select(e => e.GetDouble()).ToArray();
        Assert.True(acc[^1] > 0.8, $"final accuracy {acc[^1]}");
    }

    [Theory]
    [InlineData("shape", "layers.0.weight")]
    [InlineData("outputs", "outputs")]
    [InlineData("label", "Label 7 at row 0")]
    [InlineData("fraction", "not a class index")]
    [InlineData("opt", "rmsprop")]
    [InlineData("observe", "hessian-magic")]
    [InlineData("dtype", "float16")]
    [InlineData("missing", "nope.csv")]
    [InlineData("corrupt", "npy")]
    [InlineData("nodata", "--x FILE")]
    [InlineData("eps", "epsilon -1")]
    [InlineData("hidden", "factor 0")]
    public void BadInputExitsWithCodeTwoAndNamesTheProblem(string kind, string named)
    {
        var (x, y) = Data();
        string arch = "dense(8)-relu-dense(1)";
        string[] extra = [];
        switch (kind)
        {
            case "shape":
                x = Csv("x4.csv", TestData.RandomMatrix(40, 4, 2));
                arch = "dense(8)-relu-dense(1)";
                extra = ["--init", Weights(arch, 3)];
                break;
            case "outputs": arch = "dense(8)-relu-dense(2)"; break;
            case "label":
                y = Csv("lab.csv", Matrix.FromRows(Enumerable.Range(0, 40).Select(i => new double[] { i == 0 ? 7 : i % 2 }).ToArray()));
                extra = ["--labels"];
                arch = "dense(8)-relu-dense(2)";
                break;
            case "fraction":
                y = Csv("lab.csv", Matrix.FromRows(Enumerable.Range(0, 40).Select(i => new double[] { 0.5 }).ToArray()));
                extra = ["--labels"];
                break;
            case "opt": extra = ["--opt", "rmsprop"]; break;
            case "observe": extra = ["--observe", "hessian-magic"]; break;
            case "dtype": extra = ["--dtype", "float16"]; break;
            case "eps": extra = ["--opt", "adam", "--adam-eps=-1", "--adam-eps-per-layer"]; break;
            case "hidden": extra = ["--opt", "adam", "--hidden-lr-factor", "0"]; break;
            case "missing": x = Path.Combine(dir, "nope.csv"); break;
            case "corrupt": x = Path.Combine(dir, "bad.npy"); File.WriteAllBytes(x, [0x93, (byte)'N', (byte)'U', 1, 2]); break;
        }
        string[] data = kind == "nodata" ? [] : ["--x", x, "--y", y];
        var (code, _, err) =
            CliHarness.Run(["train", "--arch", arch, "--steps", "5", .. data, "--out", Path.Combine(dir, "out"), .. extra]);
        Assert.Equal(2, code);
        Assert.Contains(named, err);
    }

    [Fact]
    public void CoordinateCheckIsReachableAndRefusesBadWidths()
    {
        var (code, stdout, err) =
            CliHarness.Run("coord-check", "--arch", "dense({n})-relu-dense(1)", "--widths", "32,64", "--steps", "2", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(2 * 3 * 2, doc.RootElement.GetProperty("rows").GetArrayLength());   // widths × steps 0…2 × dense layers
        Assert.Equal(2, CliHarness.Run("coord-check", "--arch", "dense({n})-relu-dense(1)", "--widths", "32,x").Code);
        Assert.Equal(2, CliHarness.Run("coord-check", "--arch", "dense(8)-relu-dense(1)").Code);   // no {n}
    }

    [Fact]
    public void CoordinateCheckWritesAReportWithABaseWidth()
    {
        string outDir = Path.Combine(dir, "cc");
        var (code, stdout, err) = CliHarness.Run("coord-check", "--arch", "dense({n})-relu-dense({n})-relu-dense(1)", "--widths", "16,32",
            "--param", "mup", "--base-width", "16", "--opt", "adam", "--lr", "0.01", "--steps", "3", "--out", outDir, "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        Assert.True(File.Exists(doc.RootElement.GetProperty("report").GetString()));
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(outDir, "report.html")), "<svg").Count);
        Assert.Equal(1 + 2 * 4 * 3, File.ReadAllLines(Path.Combine(outDir, "coordinates.csv")).Length);   // header + rows
        Assert.Equal(2, CliHarness.Run("coord-check", "--arch", "dense({n})-relu-dense(1)", "--param", "sp", "--base-width", "16").Code);
    }

    /// <summary>A weights file for the architecture with the given input dimension (so a data file of another width mismatches).</summary>
    private string Weights(string arch, int inputDim)
    {
        var net = new LearningMechanics.Networks.Network<double>(LearningMechanics.Architecture.NetworkSpec.Parse(arch), inputDim);
        net.Initialize(new Rng(1));
        var path = Path.Combine(dir, "w3.safetensors");
        LearningMechanics.Lab.Storage.NetworkWeights.Save(net, path);
        return path;
    }

    /// <summary>A float64 C-order .npy file of shape (rows, cols), written byte by byte (NPY format 1.0).</summary>
    private string Npy(string name, int rows, int cols, Func<int, int, double> value)
    {
        Directory.CreateDirectory(dir);
        string header = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}";
        header = header.PadRight(((10 + header.Length + 1 + 63) / 64) * 64 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.AddRange([1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)]);
        bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(header));
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) bytes.AddRange(BitConverter.GetBytes(value(i, j)));
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, [.. bytes]);
        return path;
    }

    /// <summary>Issue #20's defects 2–5: weights that are not finite, too large to square, or empty exit 2 naming the problem
    /// (before: dgesdd failures, a hang of over 60 s, NaN tables with exit 0, unwritable JSON, a GEMM error).</summary>
    [Theory]
    [InlineData("nan", "NaN at row 0, column 1")]
    [InlineData("inf", "Infinity at row 0, column 0")]
    [InlineData("huge", "1E+200 at row 2, column 3")]
    [InlineData("empty", "empty array (0×3)")]
    public void HostileWeightMatricesExitTwoNamingTheEntry(string kind, string named)
    {
        var rng = new Rng(4);
        string path = kind switch
        {
            "nan" => Npy("w.npy", 8, 4, (i, j) => i == 0 && j == 1 ? double.NaN : rng.NextGaussian()),
            "inf" => Npy("w.npy", 8, 4, (i, j) => i == 0 && j == 0 ? double.PositiveInfinity : rng.NextGaussian()),
            "huge" => Npy("w.npy", 10, 6, (i, j) => i == 2 && j == 3 ? 1e200 : rng.NextGaussian()),
            _ => Npy("w.npy", 0, 3, (_, _) => 0),
        };
        foreach (var json in new[] { false, true })
        {
            var (code, _, err) = CliHarness.Run(json ? ["spectra", path, "--json"] : ["spectra", path]);
            Assert.Equal(2, code);
            Assert.Contains(named, err);
        }
    }
}
