using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Networks;

public class NetworkTests
{
    /// <summary>A step network is a random function like any other (gp-limit's ensembles evaluate it), but it has no
    /// gradient: training it is refused by name, before any step.</summary>
    [Fact]
    public void ANonDifferentiableNetworkEvaluatesButIsNotTrained()
    {
        var spec = NetworkSpec.Parse("dense(16)-step-dense(1)", Parameterization.Ntk);
        var net = new Network<double>(spec, 3);
        net.Initialize(new Rng(1));
        var x = Matrix.FromRows([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
        var y = Trainer<double>.Predict(net, x);
        Assert.All(y.Data, v => Assert.True(double.IsFinite(v)));
        Assert.Equal("step", net.NonDifferentiable);
        var data = new Dataset(x, Matrix.FromRows([[1.0], [0.0]]));
        var e = Assert.Throws<BadInputException>(() =>
            new Trainer<double>(net, data, new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, 0.1), 5)));
        Assert.Contains("'step' has no derivative", e.Message);
    }

    public static IEnumerable<object[]> Cases() =>
    [
        ["dense(7)-tanh-dense(5)-gelu-dense(3)", "ntk", "mse"],
        ["dense(6)-res(tanh-dense(6),0.5)-layernorm-softplus-dense(3)", "sp", "ce"],
        ["dense(5)-silu-dense(5)-res(sigmoid-dense(5)-erf-dense(5),0.7)-dense(2)", "mup", "mse"],
        ["dense(5)-res(tanh-dense(5),1,0.6)-res(gelu-dense(5),0.8,0.9)-dense(2)", "ntk", "ce"],
        ["dense(5)-erf-layernorm-dense(4)-sin-dense(3)", "mf", "ce"],
        ["dense(6)-relu-dense(6)-leaky_relu(0.1)-dense(2)", "sp", "mse"],
    ];

    internal static (Network<double> Net, Dataset Data, Loss Loss) Build(string arch, string param, string lossName, int n = 9,
        ulong seed = 1)
    {
        var spec = NetworkSpec.Parse(arch, ParameterizationNames.Parse(param), sw2: 1.6, sb2: 0.2);
        var net = new Network<double>(spec, 4);
        net.Initialize(new Rng(seed));
        var x = TestData.RandomMatrix(n, 4, seed + 10);
        var loss = Loss.Parse(lossName);
        Dataset data;
        if (loss is CrossEntropyLoss)
        {
            var rng = new Rng(seed + 20);
            data = Dataset.Classification(x, Enumerable.Range(0, n).Select(_ => rng.NextInt(net.OutputDim)).ToArray(), net.OutputDim);
        }
        else data = new Dataset(x, TestData.RandomMatrix(n, net.OutputDim, seed + 30));
        return (net, data, loss);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientMatchesCentralFiniteDifferences(string arch, string param, string lossName)
    {
        var (net, data, loss) = Build(arch, param, lossName);
        var h = new Hessian(net, data, loss);
        var g = new double[net.ParameterCount];
        h.Gradient(g);
        var scratch = new double[net.ParameterCount];
        double worst = 0;
        double scale = Math.Sqrt(g.Sum(v => v * v));
        for (int i = 0; i < net.ParameterCount; i++)
        {
            double keep = net.Parameters[i];
            double eps = 1e-6;
            net.Parameters[i] = keep + eps; double up = h.Gradient(scratch);
            net.Parameters[i] = keep - eps; double down = h.Gradient(scratch);
            net.Parameters[i] = keep;
            worst = Math.Max(worst, Math.Abs((up - down) / (2 * eps) - g[i]));
        }
        // Central differences: truncation O(ε²) ≈ 1e-12, rounding ≈ 1e-16/ε = 1e-10 relative to the loss.
        Assert.True(worst <= 1e-7 * Math.Max(1, scale), $"max |FD − backprop| = {worst:G3} (‖g‖ = {scale:G3})");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void HessianVectorProductMatchesFiniteDifferencesOfTheGradient(string arch, string param, string lossName)
    {
        var (net, data, loss) = Build(arch, param, lossName);
        var h = new Hessian(net, data, loss);
        var v = new double[net.ParameterCount];
        new Rng(5).FillGaussian(v);
        var hv = new double[v.Length];
        h.Multiply(v, hv);
        var gp = new double[v.Length];
        var gm = new double[v.Length];
        var theta = (double[])net.Parameters.Clone();
        const double eps = 1e-5;
        for (int i = 0; i < v.Length; i++) net.Parameters[i] = theta[i] + eps * v[i];
        h.Gradient(gp);
        for (int i = 0; i < v.Length; i++) net.Parameters[i] = theta[i] - eps * v[i];
        h.Gradient(gm);
        theta.CopyTo(net.Parameters, 0);
        double worst = 0;
        double scale = Math.Sqrt(hv.Sum(a => a * a));
        for (int i = 0; i < v.Length; i++) worst = Math.Max(worst, Math.Abs((gp[i] - gm[i]) / (2 * eps) - hv[i]));
        Assert.True(worst <= 1e-6 * Math.Max(1, scale), $"max |FD − R-op| = {worst:G3} (‖Hv‖ = {scale:G3})");
    }

    /// <summary>
    /// The Gauss–Newton top eigenvalue (R-forward then backward) against the empirical NTK from per-layer contractions, an
    /// independent route: for the MSE over N points and one output, λ_max(G) = (2/N)·λ_max(Θ̂).
    /// </summary>
    [Theory]
    [InlineData("dense(6)-tanh-dense(5)-tanh-dense(1)", "ntk")]
    [InlineData("dense(7)-relu-dense(1)", "mup")]
    public void GaussNewtonTopIsTheEmpiricalNtksTopEigenvalueInLossUnits(string arch, string param)
    {
        const int n = 11;
        var (net, data, loss) = Build(arch, param, "mse", n: n);
        var hess = new Hessian(net, data, loss);
        double gn = hess.GaussNewtonTop(hess.Dimension, new Rng(3));
        double ntk = Lapack.SymmetricEigen(new EmpiricalNtk(net, n).Compute(data.X)).Values.Max();
        Assert.Equal(2.0 / n * ntk, gn, 1e-9 * gn);
    }

    [Fact]
    public void DenseHessianFromProductsIsSymmetric()
    {
        var (net, data, loss) = Build("dense(5)-res(tanh-dense(5),0.5)-layernorm-gelu-dense(3)", "ntk", "ce");
        var full = new Hessian(net, data, loss).Full();
        // Symmetry is not built into the R-operator: each column is a separate product.
        Assert.True(full.AsymmetryNorm() < 1e-12 * Math.Max(1, full.Data.Max(Math.Abs)), $"asymmetry {full.AsymmetryNorm():G3}");
    }

    [Fact]
    public void LanczosTopEigenvaluesMatchTheFullEigendecomposition()
    {
        var (net, data, loss) = Build("dense(8)-tanh-dense(8)-tanh-dense(2)", "ntk", "mse", n: 20);
        var hess = new Hessian(net, data, loss);
        var full = hess.Full();
        var (values, _) = Lapack.SymmetricEigen(full);
        var top = hess.TopEigenvalues(3, 40, new Rng(7));
        for (int i = 0; i < 3; i++)
            Assert.Equal(values[^(i + 1)], top[i], 1e-8 * Math.Abs(values[^1]));
    }

    [Fact]
    public void HutchinsonTraceAgreesWithTheExactTraceWithinFourStandardErrors()
    {
        var (net, data, loss) = Build("dense(6)-tanh-dense(6)-dense(2)", "ntk", "mse", n: 15);
        var hess = new Hessian(net, data, loss);
        var full = hess.Full();
        double trace = 0; for (int i = 0; i < full.Rows; i++) trace += full[i, i];
        var (est, se) = hess.HutchinsonTrace(200, new Rng(3));
        Assert.True(Math.Abs(est - trace) <= 4 * se, $"Hutchinson {est} ± {se}, exact {trace}");
    }

    [Fact]
    public void StochasticLanczosQuadratureNodesAreEigenvaluesOnceTheKrylovSpaceIsFull()
    {
        var (net, data, loss) = Build("dense(3)-tanh-dense(2)", "ntk", "mse", n: 6);
        var hess = new Hessian(net, data, loss);
        var (values, _) = Lapack.SymmetricEigen(hess.Full());
        var dens = hess.Density(3, hess.Dimension, new Rng(11));
        Assert.Equal(1.0, dens.Weights.Sum(), 1e-10);
        double scale = values.Max(Math.Abs);
        foreach (var (node, w) in dens.Nodes.Zip(dens.Weights))
            if (w > 1e-8) Assert.True(values.Min(e => Math.Abs(e - node)) < 1e-7 * scale, $"node {node} (weight {w}) is not an eigenvalue");
    }

    [Theory]
    [InlineData("ntk")]
    [InlineData("mup")]
    [InlineData("mf")]
    public void EveryParameterisationComputesTheFunctionOfItsEffectiveWeights(string param)
    {
        // The same effective network written in SP (multiplier 1): stored SP weights = multiplier × stored weights.
        var arch = "dense(6)-tanh-dense(6)-relu-dense(2)";
        var net = new Network<double>(NetworkSpec.Parse(arch, ParameterizationNames.Parse(param), 1.5, 0.3), 3);
        net.Initialize(new Rng(4));
        var sp = new Network<double>(NetworkSpec.Parse(arch, Parameterization.Standard, 1.5, 0.3), 3);
        foreach (var (t, s) in net.Tensors.Zip(sp.Tensors))
            for (int i = 0; i < t.Length; i++) sp.Parameters[s.Offset + i] = t.Rule.Multiplier * net.Parameters[t.Offset + i];
        var x = TestData.RandomMatrix(5, 3, 9);
        var a = Trainer<double>.Predict(net, x);
        var b = Trainer<double>.Predict(sp, x);
        Assert.True(a.MaxAbsDifference(b) < 1e-12, $"difference {a.MaxAbsDifference(b)}");
    }

    [Fact]
    public void InitialisationHasTheEffectiveVariancesOfEachParameterisation()
    {
        // Effective weights: SP, NTK and μP hidden layers ~ N(0, σ_w²/n); μP readout ~ N(0, σ_w²/n²).
        int n = 400;
        foreach (var p in new[] { "sp", "ntk", "mup", "mf" })
        {
            var net = new Network<double>(
                NetworkSpec.Parse($"dense({n})-relu-dense({n})-relu-dense(3)", ParameterizationNames.Parse(p), 2.0, 0), 10);
            net.Initialize(new Rng(1));
            var hidden = net.EffectiveWeight(1).Data;
            double v = hidden.Sum(w => w * w) / hidden.Length;
            double se = 2.0 / n * Math.Sqrt(2.0 / hidden.Length);
            Assert.True(Math.Abs(v - 2.0 / n) < 4 * se, $"{p}: hidden variance {v}, expected {2.0 / n}");
            var readout = net.EffectiveWeight(2).Data;
            double vr = readout.Sum(w => w * w) / readout.Length;
            double expected = p is "mup" ? 2.0 / ((double)n * n) : p is "mf" ? 2.0 / ((double)n * n) : 2.0 / n;
            Assert.True(Math.Abs(vr - expected) < 4 * expected * Math.Sqrt(2.0 / readout.Length),
                $"{p}: readout variance {vr}, expected {expected}");
        }
    }

    [Fact]
    public void Float32ForwardAgreesWithFloat64ToSinglePrecision()
    {
        var spec = NetworkSpec.Parse("dense(64)-res(relu-dense(64),0.5)-layernorm-tanh-dense(3)", Parameterization.Ntk, 2, 0.1);
        var n64 = new Network<double>(spec, 8);
        var n32 = new Network<float>(spec, 8);
        n64.Initialize(new Rng(2)); n32.Initialize(new Rng(2));
        var x = TestData.RandomMatrix(16, 8, 3);
        var a = Trainer<double>.Predict(n64, x);
        var b = Trainer<float>.Predict(n32, x);
        double scale = a.Data.Max(Math.Abs);
        Assert.True(a.MaxAbsDifference(b) < 1e-5 * scale, $"float32 vs float64 {a.MaxAbsDifference(b)}");
    }

    [Fact]
    public void NtkNetworkComputesTheSameFunctionAsTheEnsembleMlp()
    {
        var mlpSpec = new MlpSpec(3, 7, 2, new Tanh(), 1.7, 0.3);
        var mlp = new Mlp(mlpSpec); mlp.Initialize(new Rng(6));
        var net = new Network<double>(mlpSpec.ToNetworkSpec(), 3); net.Initialize(new Rng(6));
        var x = TestData.RandomMatrix(4, 3, 1);
        var a = mlp.Forward(x, mlp.CreateWorkspace(4));
        var b = Trainer<double>.Predict(net, x);
        Assert.True(a.MaxAbsDifference(b) < 1e-13);
    }

    [Fact]
    public void ZeroReadoutStartsFromTheZeroFunction()
    {
        var net = new Network<double>(NetworkSpec.Parse("dense(16)-relu-dense(2)", Parameterization.MuP), 3, zeroReadout: true);
        net.Initialize(new Rng(1));
        var f = Trainer<double>.Predict(net, TestData.RandomMatrix(5, 3, 2));
        Assert.All(f.Data, v => Assert.Equal(0.0, v, 1e-15));
    }

    [Fact]
    public void BadArchitecturesAreRejectedWithTheirReason()
    {
        Assert.Contains("readout", Assert.Throws<BadInputException>(() =>
            new Network<double>(NetworkSpec.Parse("dense(4)-relu"), 3)).Message);
        Assert.Contains("width", Assert.Throws<BadInputException>(() =>
            new Network<double>(NetworkSpec.Parse("dense(4)-res(relu-dense(5))-dense(1)"), 3)).Message);
    }
}
