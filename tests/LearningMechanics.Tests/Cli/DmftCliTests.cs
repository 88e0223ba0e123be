using System.Globalization;
using System.Text.Json;
using LearningMechanics.Lab.Storage;

namespace LearningMechanics.Tests.Cli;

/// <summary>
/// <c>lmech dmft</c> end to end, next to <c>lmech train --gamma0</c> on the same flags: files written, the finite network
/// approaching the prediction, divergence reported as such, bad input named with exit code 2.
/// </summary>
[Collection("console")]
public class DmftCliTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"lmech-dmft-{Guid.NewGuid():N}");
    public void Dispose() { if (Directory.Exists(dir)) Directory.Delete(dir, true); }

    private (string X, string Y) Data()
    {
        Directory.CreateDirectory(dir);
        var ci = CultureInfo.InvariantCulture;
        var rng = new LearningMechanics.Numerics.Rng(4);
        var xs = new List<string>();
        var ys = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            double[] row = [rng.NextGaussian(), rng.NextGaussian(), rng.NextGaussian()];
            xs.Add(string.Join(",", row.Select(v => v.ToString("R", ci))));
            ys.Add(Math.Tanh(row[0] - row[1]).ToString("R", ci));
        }
        string x = Path.Combine(dir, "x.csv"), y = Path.Combine(dir, "y.csv");
        File.WriteAllLines(x, xs);
        File.WriteAllLines(y, ys);
        return (x, y);
    }

    private static double Number(JsonElement e, string name) => e.GetProperty(name).GetDouble();

    [Fact]
    public void WritesThePredictionAndAWideNetworkTrainsLikeIt()
    {
        var (x, y) = Data();
        string[] flags = ["--arch", "dense(2048)-tanh-dense(1)", "--param", "mf", "--gamma0", "1", "--x", x, "--y", y, "--steps", "40",
            "--lr", "0.5", "--json"];
        string outDir = Path.Combine(dir, "d");
        var (code, stdout, _) = CliHarness.Run(["dmft", .. flags, "--samples", "16384", "--record-every", "10", "--out", outDir]);
        Assert.Equal(0, code);
        var r = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("completed", r.GetProperty("status").GetString());
        Assert.Equal(5, r.GetProperty("records").GetInt32());
        foreach (var f in new[] { "loss.csv", "phi.npy", "ntk.npy", "outputs.npy", "report.html", "result.json" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        var phi = Npy.Read(Path.Combine(outDir, "phi.npy"));
        Assert.Equal((5, 36), (phi.Rows, phi.Cols));
        Assert.Equal(phi[4, 1], phi[4, 6], 12);       // Φ(0,1) = Φ(1,0): symmetric
        Assert.NotEqual(phi[0, 0], phi[4, 0]);        // and it moved (γ₀ = 1)
        var losses = new List<double>();
        for (int s = 0; s < 4; s++)
        {
            var (tc, tout, _) = CliHarness.Run(["train", .. flags, "--seed", s.ToString(CultureInfo.InvariantCulture), "--out",
                Path.Combine(dir, "t"), "--id", $"s{s}"]);
            Assert.Equal(0, tc);
            losses.Add(Number(JsonDocument.Parse(tout).RootElement, "final_train_loss"));
        }
        double mean = losses.Average();
        double se = Math.Sqrt(losses.Sum(v => (v - mean) * (v - mean)) / (losses.Count - 1) / losses.Count);
        double predicted = Number(r, "final_loss");
        double predictedSe = Number(r, "final_loss_se");
        // 4·SE of both, plus the O(1/N) finite-width bias allowance 8·L(0)/N of the solver's own test (L(0) = mean y² < 1).
        Assert.True(Math.Abs(mean - predicted) <= 4 * Math.Sqrt(se * se + predictedSe * predictedSe) + 8.0 / 2048,
            $"networks {mean} ± {se}, DMFT {predicted} ± {predictedSe}");
    }

    [Fact]
    public void DivergenceIsAStatusWithTheStep()
    {
        var (x, y) = Data();
        var (code, stdout, _) = CliHarness.Run("dmft", "--arch", "dense(8)-tanh-dense(1)", "--x", x, "--y", y, "--steps", "50",
            "--lr", "300", "--samples", "2048", "--out", Path.Combine(dir, "div"), "--json");
        Assert.Equal(0, code);
        var r = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("diverged", r.GetProperty("status").GetString());
        Assert.True(r.GetProperty("diverged_at_step").GetInt32() >= 0);
    }

    [Theory]
    [InlineData("dense(8)-tanh-dense(8)-tanh-dense(1)", "mf", "1", "one hidden layer")]
    [InlineData("dense(8)-tanh-dense(1)", "ntk", "1", "lmech predict")]
    [InlineData("dense(8)-tanh-dense(1)", "mf", "0", "γ₀ = 0")]
    [InlineData("dense(8)-tanh-dense(2)", "mf", "1", "2 outputs but the targets 1")]
    [InlineData("dense(8)-tanh-dense(1,sb2=0.5)", "mf", "1", "Readout σ_b² = 0.5")]
    public void BadInputIsNamed(string arch, string param, string gamma0, string expected)
    {
        var (x, y) = Data();
        var (code, _, stderr) = CliHarness.Run("dmft", "--arch", arch, "--param", param, "--gamma0", gamma0, "--x", x, "--y", y,
            "--steps", "5", "--samples", "64", "--out", Path.Combine(dir, "bad"));
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
    }

    [Fact]
    public void TrainRefusesRichnessOutsideMeanField()
    {
        var (x, y) = Data();
        var (code, _, stderr) = CliHarness.Run("train", "--arch", "dense(8)-tanh-dense(1)", "--param", "ntk", "--gamma0", "0.5", "--x",
            x, "--y", y, "--steps", "2", "--out", Path.Combine(dir, "t"));
        Assert.Equal(2, code);
        Assert.Contains("γ₀ applies to μP and mean-field", stderr);
    }
}
