using LearningMechanics.Architecture;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;
using LearningMechanics.Theory.Kernels;
using LearningMechanics.Theory.MeanField;
using LearningMechanics.Training;
using LearningMechanics.Data;

namespace LearningMechanics.Tests.Theory.MeanField;

/// <summary>
/// The two-layer DMFT solver against answers it does not compute itself: γ₀ → 0 against the lab's NTK kernel dynamics
/// (closed-form kernels, no sampling), P = 1 against a direct integration of the single-site process over a Gauss–Hermite grid
/// of initial conditions, and the solver's replicas against one another (the reported SE is their spread). Tolerances are
/// 4·SE of the Monte Carlo estimate.
/// </summary>
public class TwoLayerDmftTests
{
    private static (Matrix X, Matrix Y) Task(int points, int dim, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new Matrix(points, dim);
        rng.FillGaussian(x.Data);
        var y = new Matrix(points, 1);
        for (int i = 0; i < points; i++) y[i, 0] = Math.Tanh(2 * x[i, 0]) + 0.5 * x[i, 1] * x[i, 1] - 0.5;
        return (x, y);
    }

    [Fact]
    public void LazyLimitIsTheNtkKernelDynamics()
    {
        var (x, y) = Task(6, 5, 1);
        const double eta = 0.8;
        var problem = new TwoLayerProblem(x, y, new Tanh(), 1e-3, eta, 60);
        var dmft = TwoLayerDmft.Solve(problem, 1 << 15, 8, 20, new Rng(7));
        var ntk = NeuralKernels.Compute(NetworkSpec.Parse("dense(64)-tanh-dense(1)"), x).Ntk!;
        var dynamics = new KernelDynamics(ntk);
        for (int k = 0; k < dmft.Steps.Length; k++)
        {
            var f = dynamics.Mean(ntk, y, TrainingTime.Discrete(dmft.Steps[k], eta));
            double loss = Enumerable.Range(0, 6).Average(i => (f[i, 0] - y[i, 0]) * (f[i, 0] - y[i, 0]));
            Assert.True(Math.Abs(dmft.Loss[k] - loss) <= 4 * dmft.LossSe[k] + 1e-12,
                $"step {dmft.Steps[k]}: DMFT {dmft.Loss[k]} ± {dmft.LossSe[k]}, NTK {loss}");
        }
        // The kernel itself: the DMFT's Θ(0) is the analytic NTK within its sampling error (relative, Frobenius).
        Assert.True(EmpiricalNtkDistance(dmft.Ntk[0], ntk) < 0.02);
        Assert.True(dmft.Loss[^1] < 0.5 * dmft.Loss[0], "training must make progress for the comparison to mean anything");
    }

    private static double EmpiricalNtkDistance(Matrix a, Matrix b) =>
        Math.Sqrt(a.Data.Zip(b.Data).Sum(p => (p.First - p.Second) * (p.First - p.Second)) / b.Data.Sum(v => v * v));

    /// <summary>
    /// P = 1, C = 1: the expectation over the neuron is over (a(0), h(0)) ∈ ℝ², so the process can be integrated on a tensor
    /// Gauss–Hermite grid (each node a deterministic trajectory driven by the shared Δ) — no sampling. At γ₀ = 1 the features
    /// move, so this checks the rich dynamics, not just the kernel limit.
    /// </summary>
    private const int QuadratureNodes = 200;

    [Theory]
    [InlineData("tanh", 1.0)]
    [InlineData("tanh", 2.0)]
    [InlineData("gelu", 1.0)]
    public void SinglePointMatchesQuadratureOfTheSingleSiteProcess(string act, double gamma0)
    {
        var x = new Matrix(1, 3, [0.9, -1.2, 0.4]);
        var y = new Matrix(1, 1, [1.5]);
        const double eta = 0.05;
        const int steps = 40;
        var phi = Activation.Parse(act);
        var problem = new TwoLayerProblem(x, y, phi, gamma0, eta, steps) { Sw2 = 1.5, ReadoutSw2 = 0.8 };
        var dmft = TwoLayerDmft.Solve(problem, 1 << 16, 8, 10, new Rng(3));
        double k0 = problem.InputKernel()[0, 0];
        // Gauss–Legendre on [−9, 9] with the normal density as weight: robust where the trajectories depend sharply on the
        // initial condition (Gauss–Hermite converged only to a few per cent at γ₀ = 2).
        var (unit, unitWeights) = GaussLegendre.Rule(QuadratureNodes);
        var nodes = unit.Select(u => 9 * u).ToArray();
        var weights = unit.Zip(unitWeights, (u, wt) => 9 * wt * Math.Exp(-40.5 * u * u) / Math.Sqrt(2 * Math.PI)).ToArray();
        int q = nodes.Length;
        var a = new double[q * q];
        var h = new double[q * q];
        var w = new double[q * q];
        for (int i = 0; i < q; i++)
            for (int j = 0; j < q; j++)
            {
                a[i * q + j] = nodes[i];
                h[i * q + j] = Math.Sqrt(k0) * nodes[j];
                w[i * q + j] = weights[i] * weights[j];
            }
        double start = Enumerable.Range(0, q * q).Sum(n => w[n] * a[n] * phi.Apply(h[n]));
        double sr = Math.Sqrt(0.8);
        double kappa = eta * gamma0 * sr * 2;
        var loss = new List<double>();
        for (int t = 0; t <= steps; t++)
        {
            double f = sr / gamma0 * (Enumerable.Range(0, q * q).Sum(n => w[n] * a[n] * phi.Apply(h[n])) - start);
            double delta = y[0, 0] - f;
            if (t % 10 == 0) loss.Add(delta * delta);
            for (int n = 0; n < q * q; n++)
            {
                double an = a[n];
                a[n] += kappa * delta * phi.Apply(h[n]);
                h[n] += kappa * delta * an * phi.Derivative(h[n]) * k0;
            }
        }
        Assert.Equal(loss.Count, dmft.Steps.Length);
        for (int k = 0; k < loss.Count; k++)
            Assert.True(Math.Abs(dmft.Loss[k] - loss[k]) <= 4 * dmft.LossSe[k] + 1e-12,
                $"step {dmft.Steps[k]}: DMFT {dmft.Loss[k]} ± {dmft.LossSe[k]}, quadrature {loss[k]}");
        Assert.True(loss[^1] < 0.5 * loss[0]);
    }

    /// <summary>A finite mean-field network of the lab (<c>--param mf --gamma0</c>, a separate code path: stored weights, backward
    /// pass, per-tensor learning rates) at width 4096 trains like the DMFT: its loss averaged over 6 initialisations is within
    /// 4·SE (nets and solver) of the prediction, plus an allowance 8·L(0)/N for the O(1/N) finite-width bias (the initial
    /// output's variance σ_r²E[φ²]/(γ₀²N) enters the loss at that order).</summary>
    [Fact]
    public void FiniteMeanFieldNetworksApproachTheSolution()
    {
        var (x, y) = Task(8, 4, 2);
        const double eta = 0.5;
        const double gamma0 = 1.0;
        const int steps = 30;
        const int width = 4096;
        var problem = new TwoLayerProblem(x, y, new Tanh(), gamma0, eta, steps);
        var dmft = TwoLayerDmft.Solve(problem, 1 << 15, 8, steps, new Rng(5));
        var spec = NetworkSpec.Parse($"dense({width})-tanh-dense(1)", Parameterization.MeanField) with { Gamma0 = gamma0 };
        var data = new Dataset(x, y);
        var losses = new double[6];
        for (int s = 0; s < losses.Length; s++)
        {
            var net = new Network<double>(spec, 4);
            net.Initialize(new Rng(100 + (ulong)s));
            var result = new Trainer<double>(net, data, new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, eta),
                steps)).Run();
            losses[s] = result.FinalLoss!.Value;
        }
        double se = Math.Sqrt(Math.Pow(Statistics.StandardError(losses), 2) + Math.Pow(dmft.LossSe[^1], 2));
        double bias = 8.0 * dmft.Loss[0] / width;
        Assert.True(Math.Abs(losses.Average() - dmft.Loss[^1]) <= 4 * se + bias,
            $"nets {losses.Average()} ± {Statistics.StandardError(losses)}, DMFT {dmft.Loss[^1]} ± {dmft.LossSe[^1]}");
        Assert.True(dmft.Loss[^1] < 0.5 * dmft.Loss[0]);
    }

    [Fact]
    public void DivergenceIsReportedNotNaN()
    {
        var (x, y) = Task(4, 3, 3);
        var dmft = TwoLayerDmft.Solve(new TwoLayerProblem(x, y, new Tanh(), 1, 200, 50), 4096, 2, 10, new Rng(1));
        Assert.Equal("diverged", dmft.Status);
        Assert.NotNull(dmft.DivergedAt);
    }

    [Fact]
    public void BadInputIsNamed()
    {
        var (x, y) = Task(4, 3, 3);
        var e = Assert.Throws<BadInputException>(() => TwoLayerDmft.Solve(new TwoLayerProblem(x, y, new Tanh(), 0, 0.1, 5), 64, 2, 1,
            new Rng(1)));
        Assert.Contains("γ₀ = 0", e.Message);
        e = Assert.Throws<BadInputException>(() => TwoLayerDmft.Solve(new TwoLayerProblem(x, y, new Tanh(), 1, 0.1, 5), 3, 2, 1,
            new Rng(1)));
        Assert.Contains("Samples 3", e.Message);
    }
}
