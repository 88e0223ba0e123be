using LearningMechanics.Architecture;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Tests.Theory.Kernels;

public class NeuralKernelTests
{
    private static Matrix RandomInputs(int n, int d, ulong seed) => TestData.RandomMatrix(n, d, seed);

    [Fact]
    public void TextFormRoundTripsAndRejectsBadSpecs()
    {
        var spec = NetworkSpec.Parse("dense(64)-relu-res(relu-dense(64,sw2=1.5),0.5)-layernorm-dense(1,sb2=0.1)");
        Assert.Equal("dense(64)-relu-res(relu-dense(64,sw2=1.5),0.5)-layernorm-dense(1,sb2=0.1)", spec.ToText());
        Assert.Equal(spec.ToText(), NetworkSpec.Parse(spec.ToText()).ToText());
        foreach (var (bad, says) in new[]
        {
            ("dense(0)-relu", "integer in 1…"), ("dense(2000000000)-relu-dense(1)", "integer in 1…"),
            ("dense(8)-swish2", "Unknown layer"), ("dense(8)-relu-", "empty layer"),
            ("dense(8", "unmatched"), ("res(dense(8)-relu)", "must end with a dense"), ("dense(8,foo=1)", "not allowed"),
            ("dense(8))", "unmatched"), ("", "Empty"),
        })
        {
            var e = Assert.Throws<BadInputException>(() => NetworkSpec.Parse(bad));
            Assert.Contains(says, e.Message);
        }
        // Issue #20, defects 8 and 9: 14 000 nested blocks overflowed the stack; two 46 341-wide layers overflowed an int.
        string nested = "dense(4)-" + string.Concat(Enumerable.Repeat("res(", 14_000)) + "relu-dense(4)" +
            string.Concat(Enumerable.Repeat(",0.5)", 14_000)) + "-dense(1)";
        Assert.Contains("at most 32 levels", Assert.Throws<BadInputException>(() => NetworkSpec.Parse(nested)).Message);
        Assert.Contains("500,000,000 parameters", Assert.Throws<BadInputException>(() =>
            new LearningMechanics.Networks.Network<double>(NetworkSpec.Parse("dense(46341)-relu-dense(46341)-relu-dense(1)"), 4))
            .Message);
    }

    [Fact]
    public void AbcExponentsFollowTheTable()
    {
        Assert.Equal(new AbcExponents(-0.5, 0.5, 0), Parameterization.MuP.Abc(1, 3));
        Assert.Equal(new AbcExponents(0, 0.5, 0), Parameterization.MuP.Abc(2, 3));
        Assert.Equal(new AbcExponents(0.5, 0.5, 0), Parameterization.MuP.Abc(3, 3));
        Assert.Equal(new AbcExponents(0.5, 0, 0), Parameterization.Ntk.Abc(2, 3));
        Assert.Equal(new AbcExponents(0, 0.5, 1), Parameterization.Standard.Abc(3, 3));
        Assert.Equal(Parameterization.MuP.Abc(2, 2), Parameterization.MeanField.Abc(2, 2));
    }

    [Fact]
    public void NonPositiveSemidefiniteMatricesAreRefused()
    {
        Assert.Throws<BadInputException>(() => NeuralKernels.RequirePositiveSemidefinite(Matrix.FromRows([[1.0, 2.0], [2.0, 1.0]])));
        Assert.Equal(0.5, NeuralKernels.RequirePositiveSemidefinite(Matrix.FromRows([[1.0, 0.5], [0.5, 1.0]])), 1e-12);
    }

    [Fact]
    public void InvalidNetworksForKernelsAreExplained()
    {
        var x = RandomInputs(3, 4, 1);
        Assert.Contains("preactivations", Assert.Throws<BadInputException>(() =>
            NeuralKernels.Compute(NetworkSpec.Parse("relu-dense(1)"), x)).Message);
        Assert.Contains("NTK is undefined", Assert.Throws<BadInputException>(() =>
            NeuralKernels.Compute(NetworkSpec.Parse("dense(8)-step-dense(1)"), x)).Message);
        Assert.NotNull(NeuralKernels.Compute(NetworkSpec.Parse("dense(8)-step-dense(1)"), x, options: new KernelOptions(Ntk: false)).Nngp);
        Assert.Contains("keep the width", Assert.Throws<BadInputException>(() =>
            NeuralKernels.Compute(NetworkSpec.Parse("dense(8)-res(relu-dense(4))-dense(1)"), x)).Message);
        Assert.Contains("not described by a fixed kernel", Assert.Throws<BadInputException>(() =>
            NeuralKernels.Compute(NetworkSpec.Parse("dense(8)-relu-dense(1)", Parameterization.MuP), x)).Message);
        Assert.Contains("not described by a fixed kernel", Assert.Throws<BadInputException>(() =>
            NeuralKernels.Compute(NetworkSpec.Parse("dense(8)-relu-dense(1)", Parameterization.MeanField), x)).Message);
        var bad = x.Clone(); bad[1, 2] = double.NaN;
        Assert.Contains("row 1, column 2", Assert.Throws<BadInputException>(() =>
            NeuralKernels.Compute(NetworkSpec.Parse("dense(8)-relu-dense(1)"), bad)).Message);
        Assert.Throws<BadInputException>(() =>
            NeuralKernels.Compute(NetworkSpec.Parse("dense(8)-relu-dense(1)"), x, RandomInputs(2, 5, 2)));
    }

    [Fact]
    public void NtkOfAnMlpFollowsTheSeedRecursionWrittenOut()
    {
        // Θ¹ = K¹, Θ^{ℓ+1} = K^{ℓ+1} + σ_w²·E[φ′φ′](K^ℓ)·Θ^ℓ (Jacot et al. 2018; Roberts & Yaida 2022, eq. 9.5), by
        // hand for two inputs and two hidden layers.
        var x = Matrix.FromRows([[1.0, 0.5, -0.3], [0.2, -1.0, 0.8]]);
        double sw2 = 1.7;
        double sb2 = 0.2;
        var act = new Erf();
        var (k, t) = NeuralKernels.Compute(NetworkSpec.Parse("dense(10)-erf-dense(10)-erf-dense(1)", sw2: sw2, sb2: sb2), x);
        var k1 = Nngp.InputKernel(x, sw2, sb2);
        Matrix kl = k1;
        Matrix tl = k1.Clone();
        for (int layer = 0; layer < 2; layer++)
        {
            var kn = new Matrix(2, 2);
            var tn = new Matrix(2, 2);
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                {
                    kn[i, j] = sb2 + sw2 * act.PairExpectation(kl[i, i], kl[i, j], kl[j, j]);
                    tn[i, j] = kn[i, j] + sw2 * act.DerivativePairExpectation(kl[i, i], kl[i, j], kl[j, j]) * tl[i, j];
                }
            kl = kn; tl = tn;
        }
        Assert.True(k.MaxAbsDifference(kl) < 1e-14);
        Assert.True(t!.MaxAbsDifference(tl) < 1e-14);
    }

    [Fact]
    public void OneHiddenLayerNtkEqualsTheMeanEmpiricalNtkOfFiniteNetworks()
    {
        // For one hidden layer E[Θ_emp] = Θ∞ exactly at any width (readout weights are independent of the first layer),
        // so a Monte Carlo of explicit networks checks the recursion within its standard error.
        var x = Matrix.FromRows([[1.0, 0.5, -0.3], [0.2, -1.0, 0.8]]);
        double sw2 = 2;
        double sb2 = 0.1;
        var (_, theta) = NeuralKernels.Compute(NetworkSpec.Parse("dense(32)-relu-dense(1)", sw2: sw2, sb2: sb2), x);
        int n = 32;
        int d = 3;
        int m = 4000;
        var samples = new double[3][];
        for (int p = 0; p < 3; p++) samples[p] = new double[m];
        var root = new Rng(4);
        var w1 = new double[n * d];
        var b1 = new double[n];
        var w2 = new double[n];
        for (int s = 0; s < m; s++)
        {
            var rng = root.Split((ulong)s);
            rng.FillGaussian(w1); rng.FillGaussian(b1); rng.FillGaussian(w2);
            // f = √(σ_w²/n)·w2·φ(z) + σ_b·b2, z = √(σ_w²/d)·W1·x + σ_b·b1; gradients by hand.
            double Theta(int a, int b)
            {
                double sum = sb2;                                             // ∂f/∂b2
                double input = sw2 * (x[a, 0] * x[b, 0] + x[a, 1] * x[b, 1] + x[a, 2] * x[b, 2]) / d + sb2;
                for (int k = 0; k < n; k++)
                {
                    double za = sb2 == 0 ? 0 : Math.Sqrt(sb2) * b1[k];
                    double zb = za;
                    for (int i = 0; i < d; i++)
                    {
                        za += Math.Sqrt(sw2 / d) * w1[k * d + i] * x[a, i];
                        zb += Math.Sqrt(sw2 / d) * w1[k * d + i] * x[b, i];
                    }
                    sum += sw2 / n * Math.Max(za, 0) * Math.Max(zb, 0);                                   // ∂f/∂w2
                    sum += sw2 / n * w2[k] * w2[k] * (za > 0 ? 1 : 0) * (zb > 0 ? 1 : 0) * input;        // ∂f/∂W1, ∂f/∂b1
                }
                return sum;
            }
            samples[0][s] = Theta(0, 0); samples[1][s] = Theta(0, 1); samples[2][s] = Theta(1, 1);
        }
        double[] predicted = [theta![0, 0], theta[0, 1], theta[1, 1]];
        for (int p = 0; p < 3; p++)
        {
            double mean = Statistics.Mean(samples[p]);
            double se = Statistics.StandardError(samples[p]);
            Assert.True(Math.Abs(mean - predicted[p]) <= 4 * se, $"entry {p}: empirical {mean} ± {se} vs Θ {predicted[p]}");
        }
    }

    [Fact]
    public void ResidualAndLayerNormFollowTheirRules()
    {
        var x = RandomInputs(3, 5, 7);
        var relu = new Relu();
        double s = 0.5;
        var (kRes, tRes) = NeuralKernels.Compute(NetworkSpec.Parse("dense(16)-res(relu-dense(16),0.5)", sw2: 2), x);
        // With an identity scale γ (Roberts & Yaida 2022, eq. B.11): K′ = γ²K + s²K_block, Θ′ = γ²Θ + s²Θ_block.
        var (kGam, tGam) = NeuralKernels.Compute(NetworkSpec.Parse("dense(16)-res(relu-dense(16),0.5,0.7)", sw2: 2), x);
        var (kIn, tIn) = NeuralKernels.Compute(NetworkSpec.Parse("dense(16)", sw2: 2), x);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                double e = relu.PairExpectation(kIn[i, i], kIn[i, j], kIn[j, j]);
                double kb = 2 * e;
                double tb = kb + 2 * relu.DerivativePairExpectation(kIn[i, i], kIn[i, j], kIn[j, j]) * tIn![i, j];
                Assert.Equal(kIn[i, j] + s * s * kb, kRes[i, j], 1e-13);
                Assert.Equal(tIn[i, j] + s * s * tb, tRes![i, j], 1e-13);
                Assert.Equal(0.49 * kIn[i, j] + s * s * kb, kGam[i, j], 1e-13);
                Assert.Equal(0.49 * tIn[i, j] + s * s * tb, tGam![i, j], 1e-13);
            }
        // LayerNorm after a Dense layer: the kernel becomes the correlation matrix.
        var (kLn, _) = NeuralKernels.Compute(NetworkSpec.Parse("dense(16)-layernorm", sw2: 2, sb2: 0.3), x);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) Assert.Equal(Correlation(x, i, j, 2, 0.3), kLn[i, j], 1e-13);
        // Post-tanh representations are not Gaussian: an activation right after a residual on them is refused.
        Assert.Throws<BadInputException>(() => NeuralKernels.Compute(NetworkSpec.Parse("dense(16)-tanh-res(tanh-dense(16))"), x));
        // LayerNorm after an activation centres by the feature mean E[φ(u)] = √(K/2π) for ReLU: diagonal 1.
        var (kAct, _) = NeuralKernels.Compute(NetworkSpec.Parse("dense(16)-relu-layernorm", sw2: 2), x);
        for (int i = 0; i < 3; i++) Assert.Equal(1.0, kAct[i, i], 1e-13);
    }

    private static double Correlation(Matrix x, int i, int j, double sw2, double sb2)
    {
        double Dot(int a, int b) { double s = 0; for (int c = 0; c < x.Cols; c++) s += x[a, c] * x[b, c]; return s / x.Cols; }
        double k(int a, int b) => sw2 * Dot(a, b) + sb2;
        return k(i, j) / Math.Sqrt(k(i, i) * k(j, j));
    }

    [Fact]
    public void StandardParameterisationNtkCarriesTheFanIn()
    {
        var x = RandomInputs(2, 4, 3);
        var (k1, _) = NeuralKernels.Compute(NetworkSpec.Parse("dense(8)", sw2: 1.5, sb2: 0.2), x);
        var (_, tSp) = NeuralKernels.Compute(NetworkSpec.Parse("dense(8)-relu-dense(1)", Parameterization.Standard, 1.5, 0.2), x);
        var relu = new Relu();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
            {
                double dot = (k1[i, j] - 0.2) / 1.5;                         // x·x′/d
                double t1 = 4 * dot + 1;                                      // first layer: fan_in·(x·x′/d) + 1
                double e = relu.PairExpectation(k1[i, i], k1[i, j], k1[j, j]);
                double expected = 1.5 * relu.DerivativePairExpectation(k1[i, i], k1[i, j], k1[j, j]) * t1 + 8 * e + 1;
                Assert.Equal(expected, tSp![i, j], 1e-12);
            }
    }

    /// <summary>The row engine (four entries a lane, ArcCosine.Row and the Dense step's vector loop) against the pair-by-pair
    /// recursion of <see cref="NeuralKernels.PerLayer"/>, and the single-kernel path against the pair of kernels: bit for bit.
    /// 23 inputs, so every row has a scalar tail.</summary>
    [Fact]
    public void TheVectorisedRowEngineIsThePairRecursionBitForBit()
    {
        var spec = NetworkSpec.Parse("dense(32)-relu-dense(32)-res(leaky_relu(0.1)-dense(32),0.5)-relu-dense(1)", sw2: 2, sb2: 0);
        var x = RandomInputs(23, 5, 3);
        x.Row(4).Clear();                                   // a zero input: zero variance in every layer
        x.Row(7).Fill(-1);                                  // and an antipodal pair, c = −1 before the first activation (δ = 0)
        x.Row(8).Fill(1);
        var (k, t) = NeuralKernels.Compute(spec, x);
        var (kPairs, tPairs) = NeuralKernels.PerLayer(spec, x)[^1];
        var tOnly = NeuralKernels.ComputeOne(spec, x, options: new KernelOptions(Ntk: true));
        var kOnly = NeuralKernels.ComputeOne(spec, x, options: new KernelOptions(Ntk: false));
        for (int i = 0; i < 23; i++)
            for (int j = 0; j < 23; j++)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(kPairs[i, j]), BitConverter.DoubleToInt64Bits(k[i, j]));
                Assert.Equal(BitConverter.DoubleToInt64Bits(tPairs[i, j]), BitConverter.DoubleToInt64Bits(t![i, j]));
                Assert.Equal(BitConverter.DoubleToInt64Bits(t[i, j]), BitConverter.DoubleToInt64Bits(tOnly[i, j]));
                Assert.Equal(BitConverter.DoubleToInt64Bits(k[i, j]), BitConverter.DoubleToInt64Bits(kOnly[i, j]));
            }
    }

    [Fact]
    public void BlocksRowTilesAndSymmetryAreConsistent()
    {
        var spec = NetworkSpec.Parse("dense(32)-res(tanh-dense(32),0.7)-layernorm-dense(32)-gelu-dense(1)", sw2: 1.4, sb2: 0.05);
        var x1 = RandomInputs(7, 6, 11);
        var x2 = RandomInputs(5, 6, 12);
        var all = new Matrix(12, 6);
        Array.Copy(x1.Data, all.Data, x1.Data.Length); Array.Copy(x2.Data, 0, all.Data, x1.Data.Length, x2.Data.Length);
        var (kAll, tAll) = NeuralKernels.Compute(spec, all, options: new KernelOptions(RowBlock: 5));
        var (kCross, tCross) = NeuralKernels.Compute(spec, x1, x2, new KernelOptions(RowBlock: 1));
        Assert.Equal(0.0, kAll.AsymmetryNorm());
        Assert.Equal(0.0, tAll!.AsymmetryNorm());
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 5; j++)
            {
                Assert.Equal(kAll[i, 7 + j], kCross[i, j], 1e-14);
                Assert.Equal(tAll[i, 7 + j], tCross![i, j], 1e-14);
            }
        // The diagonal alone, from the traces, is the matrix's diagonal bit for bit.
        var (kd, td) = NeuralKernels.Diagonal(spec, all);
        for (int i = 0; i < 12; i++) { Assert.Equal(kAll[i, i], kd[i]); Assert.Equal(tAll[i, i], td![i]); }
        foreach (var m in new[] { kAll, tAll })
        {
            var (values, _) = Lapack.SymmetricEigen(m);
            Assert.True(values[0] >= -1e-10 * values[^1], $"smallest eigenvalue {values[0]}");
        }
    }
}
