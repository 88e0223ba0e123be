using LearningMechanics.Cli;
using LearningMechanics.Numerics;

namespace LearningMechanics.Tests.Cli;

/// <summary>Runs one <c>lmech</c> command line with standard output and error captured (tests in the "console" collection).</summary>
internal static class CliHarness
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var oldOut = Console.Out;
        var oldErr = Console.Error;
        var output = new StringWriter();
        var error = new StringWriter();
        Console.SetOut(output); Console.SetError(error);
        try { return (Lmech.Execute(args), output.ToString(), error.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }
}

/// <summary>The command-line contract: exit codes and messages for bad input, nothing written on failure.</summary>
[Collection("console")]
public class CliTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"lmech-cli-{Guid.NewGuid():N}");
    public void Dispose() { if (Directory.Exists(dir)) Directory.Delete(dir, true); }

    private static (int Code, string Err) Run(params string[] args)
    {
        var r = CliHarness.Run(args);
        return (r.Code, r.Err);
    }

    [Theory]
    [InlineData(new[] { "run", "no-such-experiment" }, "no-such-experiment", "gp-limit")]
    [InlineData(new[] { "run", "gp-limit", "--set", "acts=softmax" }, "softmax", "relu")]
    [InlineData(new[] { "run", "gp-limit", "--set", "widths=0,8" }, "'0'", "integer")]
    [InlineData(new[] { "run", "gp-limit", "--set", "depth=-2" }, "depth", "≥ 1")]
    [InlineData(new[] { "run", "gp-limit", "--set", "depth" }, "depth", "key=value")]
    [InlineData(new[] { "run", "gp-limit", "--set", "colour=red" }, "colour", "widths")]
    [InlineData(new[] { "run", "gp-limit", "--set", "sw2=-1" }, "sw2", "critical")]
    [InlineData(new[] { "run", "gp-limit", "--quick", "--full" }, "--quick", "--full")]
    [InlineData(new[] { "run", "gp-limit", "--seed", "abc" }, "abc", "")]
    [InlineData(new[] { "frobnicate" }, "frobnicate", "")]
    [InlineData(new[] { "run", "all", "--set", "foo=1" }, "foo", "lmech list")]
    [InlineData(new[] { "run", "all", "--set", "acts=relu,tanh" }, "'tanh' is not positively homogeneous", "relu, linear")]
    [InlineData(new[] { "run", "bayesian-finite-width", "--set", "widths=2000000000", "--force" }, "dense(2000000000)",
        "500,000,000 parameters")]
    [InlineData(new[] { "run", "gp-limit", "--set", "nets=100000000" }, "floating-point operations", "--force")]
    [InlineData(new[] { "run", "ntk-limit", "--set", "nets=1000000000" }, "floating-point operations", "--force")]
    [InlineData(new[] { "run", "ntk-fluctuations", "--set", "nets=1000000000" }, "floating-point operations", "--force")]
    [InlineData(new[] { "run", "criticality", "--set", "width=100000" }, "floating-point operations", "--force")]
    [InlineData(new[] { "run", "double-descent", "--set", "p=1000000" }, "floating-point operations", "--force")]
    [InlineData(new[] { "run", "eigenlearning", "--set", "modes=100000000" }, "floating-point operations", "--force")]
    [InlineData(new[] { "run", "edge-of-stability", "--set", "steps=100000000" }, "floating-point operations", "--force")]
    [InlineData(new[] { "run", "mup-transfer", "--set", "seeds=400000" }, "floating-point operations", "--force")]
    [InlineData(new[] { "run", "eigenlearning", "--set", "modes=2000000000", "--set", "ns=2,3,4", "--set", "pool=0" }, "GB of memory",
        "--force")]
    [InlineData(new[] { "run", "linear-scaling", "--set", "n_train=100000" }, "n_train=100000", "60000 Fashion-MNIST")]
    [InlineData(new[] { "train", "--arch", "dense(8)-relu-dense(1)", "--data", "teacher", "--n-train", "1000000000" }, "1000000000",
        "10,000,000")]
    [InlineData(new[] { "train", "--arch", "dense(30000)-relu-dense(1)", "--data", "teacher", "--n-train", "100000" },
        "100000 training examples", "narrower network")]
    [InlineData(new[] { "train", "--arch", "dense(3000)-relu-dense(1)", "--data", "teacher", "--n-train", "100000", "--steps",
        "100000" }, "floating-point operations", "--force")]
    public void BadInputExitsWithCodeTwoAndNamesTheValue(string[] args, string named, string allowed)
    {
        var (code, err) = Run([.. args, "--out", dir]);
        Assert.Equal(2, code);
        Assert.Contains(named, err);
        Assert.Contains(allowed, err);
        Assert.False(File.Exists(Path.Combine(dir, "results.db")));
    }

    /// <summary>A kernel larger than the free space of its output's file system is refused before any row (a 300 000-point
    /// kernel once filled the disk with a .partial file); so is one whose work is beyond 10¹⁴ operations.</summary>
    [Fact]
    public void AKernelThatDoesNotFitOrTakesDaysIsRefusedBeforeAnyWork()
    {
        Directory.CreateDirectory(dir);
        string full = Path.GetFullPath(dir);
        var drive = DriveInfo.GetDrives().Where(v => v.IsReady && full.StartsWith(v.RootDirectory.FullName, StringComparison.Ordinal))
            .MaxBy(v => v.RootDirectory.FullName.Length)!;
        int n = (int)Math.Ceiling(Math.Sqrt(drive.AvailableFreeSpace / 8.0)) + 1000;
        string x = Path.Combine(dir, "x.csv");
        File.WriteAllLines(x, Enumerable.Range(0, n).Select(i => i % 2 == 0 ? "0.5,1" : "1,-0.25"));
        string npy = Path.Combine(dir, "k.npy");
        var (code, err) = Run("kernel", "nngp", "--arch", "dense(8)-relu-dense(1)", "--x", x, "--out", npy);
        Assert.Equal(2, code);
        Assert.Contains("GB free", err);
        Assert.Contains("--force", err);
        Assert.Empty(Directory.GetFiles(dir, "k.npy*"));
        File.WriteAllLines(x, Enumerable.Range(0, 40000).Select(i => i % 2 == 0 ? "0.5,1" : "1,-0.25"));
        string deep = string.Join("-", Enumerable.Repeat("dense(8)-relu", 500)) + "-dense(1)";
        (code, err) = Run("kernel", "nngp", "--arch", deep, "--x", x, "--out", npy, "--dtype", "float32");
        Assert.Equal(2, code);
        Assert.Contains("floating-point operations", err);
        Assert.Empty(Directory.GetFiles(dir, "k.npy*"));
    }

    /// <summary>The finite-width posterior's work grows as (N + 1)⁴ per test input and layer: 8 training inputs through 20 000
    /// tanh layers (days of quadrature) are refused with the estimate before the layer recursions run.</summary>
    [Fact]
    public void AFiniteWidthPosteriorBeyondTheWorkLimitIsRefusedFirst()
    {
        Directory.CreateDirectory(dir);
        string xa = Path.Combine(dir, "xa.csv"), ya = Path.Combine(dir, "ya.csv"), xb = Path.Combine(dir, "xb.csv");
        File.WriteAllLines(xa, Enumerable.Range(0, 8).Select(i => $"{0.1 * i + 0.05},{1 - 0.2 * i}"));
        File.WriteAllLines(ya, Enumerable.Range(0, 8).Select(i => $"{i}"));
        File.WriteAllLines(xb, ["0.2,0.7"]);
        var (code, err) = Run("finite-width", "--act", "tanh", "--depth", "20000", "--width", "64", "--x-train", xa, "--y-train", ya,
            "--x-test", xb);
        Assert.Equal(2, code);
        Assert.Contains("floating-point operations", err);
        Assert.Contains("--force", err);
    }

    /// <summary>A decimal comma is refused by name: the invariant culture would otherwise read "0,05" as 5.</summary>
    [Theory]
    [InlineData("--lr", "0,05")]
    [InlineData("--weight-decay", "1,5e-4")]
    public void ADecimalCommaOrDigitSeparatorInANumberExitsTwo(string option, string value)
    {
        var (code, err) = Run("train", "--arch", "dense(8)-relu-dense(1)", "--data", "teacher", option, value, "--out", dir);
        Assert.Equal(2, code);
        Assert.Contains($"{option}: '{value}' is not a number", err);
        Assert.False(Directory.Exists(Path.Combine(dir, "train")));
    }

    /// <summary>σ_w² = 10³⁰⁸ overflows the kernel recursion: bad input with the reason (it was an internal error).</summary>
    [Fact]
    public void AKernelRecursionThatOverflowsExitsTwo()
    {
        Directory.CreateDirectory(dir);
        string x = Path.Combine(dir, "x.csv");
        File.WriteAllText(x, "1,0\n0,1\n");
        var (code, err) = Run("kernel", "ntk", "--arch", "dense(8)-relu-dense(8)-relu-dense(1)", "--x", x, "--sw2", "1e308", "--out",
            Path.Combine(dir, "K.npy"));
        Assert.Equal(2, code);
        Assert.Contains("overflows float64", err);
        Assert.False(File.Exists(Path.Combine(dir, "K.npy")));
    }

    [Fact]
    public void ARunIdTooLongForAFolderNameExitsTwo()
    {
        var (code, err) = Run("train", "--arch", "dense(8)-relu-dense(1)", "--data", "teacher", "--id", new string('a', 300), "--out",
            dir);
        Assert.Equal(2, code);
        Assert.Contains("--id is 300 characters long", err);
    }

    [Fact]
    public void UnwritableOutputFolderFailsBeforeAnyWork()
    {
        string blocker = Path.Combine(dir, "file");
        Directory.CreateDirectory(dir);
        File.WriteAllText(blocker, "not a folder");
        var (code, err) = Run("run", "gp-limit", "--out", Path.Combine(blocker, "sub"));
        Assert.Equal(2, code);
        Assert.Contains("not writable", err);
        // lmech train too, for its results folder and for --save, before a step is taken (a million steps would take minutes).
        string[] train = ["train", "--arch", "dense(8)-relu-dense(1)", "--data", "teacher", "--steps", "1000000"];
        (code, err) = Run([.. train, "--out", Path.Combine(blocker, "sub")]);
        Assert.Equal(2, code);
        Assert.Contains("not writable", err);
        (code, err) = Run([.. train, "--out", Path.Combine(dir, "ok"), "--save", Path.Combine(blocker, "sub", "w.safetensors")]);
        Assert.Equal(2, code);
        Assert.Contains("--save FILE", err);
        (code, err) = Run("criticality", "--act", "tanh", "--plot", Path.Combine(blocker, "sub", "phase.svg"));
        Assert.Equal(2, code);
        Assert.Contains("--plot FILE", err);
    }

    [Fact]
    public void ListAndASmallRunSucceed()
    {
        Assert.Equal(0, Run("list").Code);
        var (code, _) = Run("run", "gp-limit", "--out", dir, "--seed", "3", "--set", "widths=8,16,32,64", "--set", "nets=200",
            "--set", "depth=1", "--set", "acts=erf", "--set", "fit_min=8");
        Assert.Equal(0, code);
        Assert.True(File.Exists(Path.Combine(dir, "gp-limit", "result.json")));
        Assert.True(File.Exists(Path.Combine(dir, "index.html")));
    }
}

/// <summary>The <c>lmech kernel</c> command: output readable, agreement with the library, bad input refused.</summary>
[Collection("console")]
public class KernelCliTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("lmech-kernel-").FullName;
    public void Dispose() => Directory.Delete(dir, true);
    private string P(string name) => Path.Combine(dir, name);

    private static int Run(params string[] args) => CliHarness.Run(args).Code;

    [Fact]
    public void WritesTheKernelOfTheLibraryAndRefusesBadInput()
    {
        File.WriteAllText(P("x.csv"), "1,0,0\n0.6,0.8,0\n0,0,1\n");
        File.WriteAllText(P("x2.csv"), "1,1,1\n0,2,1\n");
        Assert.Equal(0, Run("kernel", "ntk", "--arch", "dense(64)-relu-dense(1)", "--x", P("x.csv"), "--x2", P("x2.csv"),
            "--out", P("k.npy"), "--sw2", "2"));
        var k = LearningMechanics.Lab.Storage.Npy.Read(P("k.npy"));
        var x = LearningMechanics.Lab.Storage.CsvMatrix.Read(P("x.csv"));
        var x2 = LearningMechanics.Lab.Storage.CsvMatrix.Read(P("x2.csv"));
        var (_, t) = LearningMechanics.Theory.Kernels.NeuralKernels.Compute(
            LearningMechanics.Architecture.NetworkSpec.Parse("dense(64)-relu-dense(1)", sw2: 2), x, x2);
        Assert.Equal(3, k.Rows); Assert.Equal(2, k.Cols);
        Assert.Equal(t!.Data, k.Data);

        Assert.Equal(2, Run("kernel", "ntk", "--arch", "dense(8)-sign-dense(1)", "--x", P("x.csv"), "--out", P("bad.npy")));
        Assert.Equal(2, Run("kernel", "nngp", "--arch", "dense(8)-relu", "--x", P("x.csv"), "--out", P("bad.txt")));
        Assert.Equal(2, Run("kernel", "cka", "--arch", "dense(8)-relu", "--x", P("x.csv"), "--out", P("bad.npy")));
        Assert.Equal(2, Run("kernel", "nngp", "--arch", "dense(8)-relu", "--x", P("nothere.csv"), "--out", P("bad.npy")));
        Assert.Equal(2, Run("kernel", "nngp", "--arch", "dense(8)-relu", "--x", P("x.csv"), "--out", P("bad.npy"), "--param", "mup"));
        Assert.False(File.Exists(P("bad.npy")));
        Assert.False(File.Exists(P("bad.txt")));
    }
}

/// <summary>The <c>lmech criticality</c> command.</summary>
[Collection("console")]
public class CriticalityCliTests
{
    [Fact]
    public void PrintsJsonWritesThePhaseDiagramAndRefusesBadInput()
    {
        string svg = Path.Combine(Path.GetTempPath(), $"phase-{Guid.NewGuid():N}.svg");
        try
        {
            var (code, output, _) = CliHarness.Run("criticality", "--act", "tanh", "--points", "3", "--sw2", "1.5", "--sb2", "0.05",
                "--json", "--plot", svg);
            Assert.Equal(0, code);
            using var doc = System.Text.Json.JsonDocument.Parse(output);
            Assert.Equal("KStarZero", doc.RootElement.GetProperty("class").GetString());
            Assert.Equal(1.0, doc.RootElement.GetProperty("critical_sw2").GetDouble(), 1e-8);
            Assert.Equal("ordered", doc.RootElement.GetProperty("point").GetProperty("phase").GetString());
            Assert.Equal(3, doc.RootElement.GetProperty("critical_line").GetArrayLength());
            Assert.Contains("<svg", File.ReadAllText(svg));
            Assert.Equal(2, CliHarness.Run("criticality", "--act", "swishy").Code);
            Assert.Equal(2, CliHarness.Run("criticality", "--act", "tanh", "--points", "1").Code);
            Assert.Equal(2, CliHarness.Run("criticality", "--act", "tanh", "--sw2", "-1").Code);
        }
        finally { File.Delete(svg); }
    }
}

/// <summary>The <c>lmech finite-width</c> command.</summary>
[Collection("console")]
public class FiniteWidthCliTests
{
    [Fact]
    public void PrintsTheExpansionAndRefusesBadInput()
    {
        var (code, output, _) = CliHarness.Run("finite-width", "--act", "relu", "--depth", "3", "--width", "100", "--json");
        Assert.Equal(0, code);
        using (var doc = System.Text.Json.JsonDocument.Parse(output))
        {
            var layers = doc.RootElement.GetProperty("layers");
            Assert.Equal(4, layers.GetArrayLength());
            Assert.Equal(0.15, layers[3].GetProperty("V_over_nK2").GetDouble(), 1e-12);   // 5ℓ/n with ℓ = 3, n = 100
            Assert.StartsWith("warning", doc.RootElement.GetProperty("validity").GetString());
        }
        Assert.Equal(2, CliHarness.Run("finite-width", "--act", "relu", "--depth", "3", "--width", "0").Code);
        // Issue #20, defects 10 and 16: a depth of 10⁸ ran for minutes, 2³¹ − 1 was reported as "Depth −2147483648".
        foreach (var huge in new[] { "100000000", "2147483647" })
        {
            var refused = CliHarness.Run("finite-width", "--act", "relu", "--depth", huge, "--width", "64");
            Assert.Equal(2, refused.Code);
            Assert.Contains($"--depth {huge} must be an integer in 1…100000", refused.Err);
        }
        // No critical σ_w² to default to.
        Assert.Equal(2, CliHarness.Run("finite-width", "--act", "sigmoid", "--depth", "3", "--width", "10").Code);
        Assert.Equal(2, CliHarness.Run("finite-width", "--act", "relu", "--depth", "3", "--width", "10", "--gamma", "1").Code);
        Assert.Equal(2, CliHarness.Run("finite-width", "--act", "relu", "--depth", "3", "--width", "10", "--pair-cosine", "1.5").Code);
        // The pair's NLO metric (eq. 4.115) from the library; null where it is not resolved (next to the PSD edge).
        var relu = new LearningMechanics.Architecture.Initialization(LearningMechanics.Architecture.Activation.Parse("relu"), 2, 0);
        var pairLayer = LearningMechanics.Theory.FiniteWidth.PairVertex.Compute(relu, 1, 0.3, 1, 4)[^1];
        using (var doc = System.Text.Json.JsonDocument.Parse(CliHarness.Run("finite-width", "--act", "relu", "--depth", "3", "--width",
            "100", "--pair-cosine", "0.3", "--json").Out))
            Assert.Equal(pairLayer.G1[1], doc.RootElement.GetProperty("output_pair_vertex").GetProperty("G1_ab").GetDouble(), 1e-12);
        using (var doc = System.Text.Json.JsonDocument.Parse(CliHarness.Run("finite-width", "--act", "relu", "--depth", "3", "--width",
            "100", "--pair-cosine", "0.999999", "--json").Out))
            Assert.Equal(System.Text.Json.JsonValueKind.Null,
                doc.RootElement.GetProperty("output_pair_vertex").GetProperty("G1_ab").ValueKind);
    }

    [Theory]
    [InlineData("tanh", new string[0])]
    [InlineData("relu", new[] { "--gamma", "0.6" })]
    [InlineData("erf", new[] { "--pair-cosine", "0.3" })]
    public void TheTableFormPrintsEveryColumn(string act, string[] extra)
    {
        // The table goes to Spectre's console (not captured here); a markup error in it exits 1.
        var (code, _, err) = CliHarness.Run(["finite-width", "--act", act, "--depth", "4", "--width", "64", .. extra]);
        Assert.True(code == 0, err);
        // The NTK columns against the library.
        using var doc = System.Text.Json.JsonDocument.Parse(
            CliHarness.Run(["finite-width", "--act", act, "--depth", "4", "--width", "64", "--json", .. extra]).Out);
        if (extra.Length == 0)
        {
            var phi = LearningMechanics.Architecture.Activation.Parse(act);
            double cw = LearningMechanics.Theory.Criticality.CriticalWeightVariance(phi);
            var critical = new LearningMechanics.Architecture.Initialization(phi, cw, 0);
            var q = LearningMechanics.Theory.FiniteWidth.NtkFluctuations.SingleInput(critical, 1, 5)[^1];
            Assert.Equal(q.Mean(64), doc.RootElement.GetProperty("layers")[4].GetProperty("ntk_mean").GetDouble(), 1e-12);
        }
        if (act == "relu")
        {
            // --gamma: the corrected recursion and ν, with the book's B.26 and B.29 next to them.
            var relu = new LearningMechanics.Architecture.Relu();
            double cw = LearningMechanics.Theory.FiniteWidth.OptimalAspectRatio.ResidualCriticalWeightVariance(relu, 0.6);
            var init = new LearningMechanics.Architecture.Initialization(relu, cw, 0);
            var corrected = LearningMechanics.Theory.FiniteWidth.FourPointVertex.SingleInput(init, 1, 5, 0.6)[^1];
            var book = LearningMechanics.Theory.FiniteWidth.FourPointVertex.SingleInput(init, 1, 5, 0.6, book: true)[^1];
            var last = doc.RootElement.GetProperty("layers")[4];
            Assert.Equal(corrected.V, last.GetProperty("V").GetDouble(), 1e-9 * corrected.V);
            Assert.Equal(book.V, last.GetProperty("V_book_B26").GetDouble(), 1e-9 * book.V);
            Assert.Equal(LearningMechanics.Theory.FiniteWidth.OptimalAspectRatio.ResidualNu(relu, 0.6),
                doc.RootElement.GetProperty("nu").GetDouble(), 1e-12);
            Assert.Equal(LearningMechanics.Theory.FiniteWidth.OptimalAspectRatio.Nu(relu, 0.6),
                doc.RootElement.GetProperty("nu_book_B29").GetDouble(), 1e-12);
        }
    }
}

/// <summary><c>lmech finite-width</c> with a data set: the Bayesian posterior mean at width n.</summary>
[Collection("console")]
public class FiniteWidthPosteriorCliTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("lmech-fwbayes-").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void WritesTheWidthNPosteriorMeanOfTheLibraryAndRefusesBadData()
    {
        string xa = Write("xa.csv", "1,0,0\n0,1,0\n");
        string ya = Write("ya.csv", "0.8,-0.3\n-0.5,1.1\n");
        string xb = Write("xb.csv", "0.6,0.8,0\n0,0,1\n");
        string outPath = Path.Combine(dir, "post.csv");
        var (code, output, err) = CliHarness.Run("finite-width", "--act", "tanh", "--depth", "2", "--width", "50", "--x-train", xa,
            "--y-train", ya, "--x-test", xb, "--noise", "0.01", "--out", outPath, "--json");
        Assert.True(code == 0, err);
        var tanh = new LearningMechanics.Architecture.Initialization(LearningMechanics.Architecture.Activation.Parse("tanh"), 1.0, 0);
        var expected = LearningMechanics.Theory.FiniteWidth.FiniteWidthPosterior.Mean(tanh, 2, new Matrix(2, 3, [1, 0, 0, 0, 1, 0]),
            new Matrix(2, 2, [0.8, -0.3, -0.5, 1.1]), new Matrix(2, 3, [0.6, 0.8, 0, 0, 0, 1]), 0.01);
        var written = LearningMechanics.Lab.Storage.DataFiles.ReadMatrix(outPath);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        var json = doc.RootElement.GetProperty("bayesian_posterior");
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++)
            {
                Assert.Equal(expected.MeanAt(r, c, 50), written[r, c], 1e-12);
                Assert.Equal(expected.GpMean[r, c], json.GetProperty("gp_mean")[r][c].GetDouble(), 1e-12);
                Assert.NotEqual(expected.GpMean[r, c], written[r, c]);   // the 1/n correction is there
                Assert.Equal(expected.VarianceAt(r, c, 50), json.GetProperty("variance_at_width")[r][c].GetDouble(), 1e-12);
            }
        Assert.Equal(0, CliHarness.Run("finite-width", "--act", "relu", "--depth", "2", "--width", "50", "--x-train", xa, "--y-train", ya,
            "--x-test", xb).Code);
        Assert.Equal(2, CliHarness.Run("finite-width", "--act", "relu", "--depth", "2", "--width", "50", "--x-train", xa,
            "--x-test", xb).Code);
        Assert.Equal(2, CliHarness.Run("finite-width", "--act", "relu", "--depth", "2", "--width", "50", "--x-train", xa,
            "--y-train", Write("y3.csv", "1\n2\n3\n"), "--x-test", xb).Code);
        Assert.Equal(2, CliHarness.Run("finite-width", "--act", "relu", "--depth", "2", "--width", "50", "--x-train", xa, "--y-train", ya,
            "--x-test", Write("xb2.csv", "1,0\n")).Code);
        Assert.Equal(2, CliHarness.Run("finite-width", "--act", "relu", "--depth", "2", "--width", "50", "--x-train", xa, "--y-train", ya,
            "--x-test", xb, "--noise", "-1").Code);
        Assert.Equal(2, CliHarness.Run("finite-width", "--act", "relu", "--depth", "2", "--width", "50", "--x-train", xa, "--y-train", ya,
            "--x-test", xb, "--gamma", "0.5").Code);
        // Two identical training inputs without noise: K_AA is singular.
        Assert.Equal(2, CliHarness.Run("finite-width", "--act", "relu", "--depth", "2", "--width", "50",
            "--x-train", Write("dup.csv", "1,0,0\n1,0,0\n"), "--y-train", ya, "--x-test", xb).Code);
    }
}

/// <summary>The <c>lmech predict</c> command.</summary>
[Collection("console")]
public class PredictCliTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("lmech-predict-").FullName;
    public void Dispose() => Directory.Delete(dir, true);
    private string P(string name) => Path.Combine(dir, name);

    private static int Run(params string[] args) => CliHarness.Run(args).Code;

    [Fact]
    public void ConvergedPredictionsInterpolateTheTrainingSetAndBadInputIsRefused()
    {
        File.WriteAllText(P("x.csv"), "1,0,0\n0.6,0.8,0\n0,0,1\n-1,0.5,0.2\n");
        File.WriteAllText(P("y.csv"), "1\n0.5\n-0.3\n0.2\n");
        // Test inputs = training inputs: at t = ∞ the trained network interpolates, and its variance vanishes there.
        Assert.Equal(0, Run("predict", "--arch", "dense(64)-tanh-dense(1)", "--x-train", P("x.csv"), "--y-train", P("y.csv"),
            "--x-test", P("x.csv"), "--out", P("mean.npy"), "--var", P("var.npy")));
        var mean = LearningMechanics.Lab.Storage.Npy.Read(P("mean.npy"));
        var variance = LearningMechanics.Lab.Storage.Npy.Read(P("var.npy"));
        double[] y = [1, 0.5, -0.3, 0.2];
        for (int i = 0; i < 4; i++) { Assert.Equal(y[i], mean[i, 0], 1e-8); Assert.Equal(0, variance[i, 0], 1e-8); }
        // At t = 0 the mean is the initial ensemble mean, zero.
        Assert.Equal(0, Run("predict", "--arch", "dense(64)-tanh-dense(1)", "--x-train", P("x.csv"), "--y-train", P("y.csv"),
            "--x-test", P("x.csv"), "--time", "0", "--out", P("zero.csv")));
        Assert.All(LearningMechanics.Lab.Storage.CsvMatrix.Read(P("zero.csv")).Data, v => Assert.Equal(0.0, v, 1e-15));

        File.WriteAllText(P("y3.csv"), "1\n2\n3\n");
        Assert.Equal(2, Run("predict", "--arch", "dense(8)-relu-dense(1)", "--x-train", P("x.csv"), "--y-train", P("y3.csv"),
            "--x-test", P("x.csv"), "--out", P("bad.csv")));
        Assert.Equal(2, Run("predict", "--arch", "dense(8)-relu-dense(1)", "--x-train", P("x.csv"), "--y-train", P("y.csv"),
            "--x-test", P("x.csv"), "--time", "soon", "--out", P("bad.csv")));
        Assert.Equal(2, Run("predict", "--arch", "dense(8)-relu-dense(1)", "--x-train", P("x.csv"), "--y-train", P("y.csv"),
            "--x-test", P("x.csv"), "--steps", "10", "--out", P("bad.csv")));
        Assert.Equal(2, Run("predict", "--arch", "dense(8)-relu-dense(1)", "--kernel", "cntk", "--x-train", P("x.csv"),
            "--y-train", P("y.csv"), "--x-test", P("x.csv"), "--out", P("bad.csv")));
        Assert.False(File.Exists(P("bad.csv")));
    }
}
