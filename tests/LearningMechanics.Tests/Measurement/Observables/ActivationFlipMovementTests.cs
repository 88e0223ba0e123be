using LearningMechanics.Architecture;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Measurement.Observables;

/// <summary>
/// The activation-flip law (docs/notes/relu-flips.md) against real two-layer ReLU networks whose first-layer parameters are
/// shifted by Gaussian displacements of controlled size, and the lazy displacement against the kernel predictor.
/// Statistical comparisons use the per-network differences, 4 SE, plus the stated next order of the expansion in ε.
/// </summary>
public class ActivationFlipMovementTests
{
    private const int Dim = 16;

    private static Network<double> TwoLayer(int width, Rng rng, double alpha = 1)
    {
        double a2 = alpha * alpha;
        var spec = NetworkSpec.Parse(FormattableString.Invariant($"dense({width})-relu-dense(1,sw2={2 * a2:R},sb2={0.1 * a2:R})"),
            Parameterization.Ntk, 2, 0.1);
        var net = new Network<double>(spec, Dim);
        net.Initialize(rng);
        return net;
    }

    /// <summary>A copy with every stored parameter of the listed tensors shifted by an independent N(0, ε²).</summary>
    private static Network<double> Shifted(Network<double> net, double eps, Rng rng, params int[] tensors)
    {
        var moved = new Network<double>(net.Spec, net.InputDim);
        Array.Copy(net.Parameters, moved.Parameters, net.Parameters.Length);
        foreach (var k in tensors)
        {
            var t = net.Tensors[k];
            var noise = new double[t.Length];
            rng.FillGaussian(noise, eps);
            for (int i = 0; i < noise.Length; i++) moved.Parameters[t.Offset + i] += noise[i];
        }
        return moved;
    }

    /// <summary>T¹ = (σ_w²/d)·XXᵀ + σ_b² with σ_w² = 2, σ_b² = 0.1.</summary>
    private static Matrix Tangent(Matrix x)
    {
        var t = Matrix.Multiply(x, x, Transpose.No, Transpose.Yes);
        for (int i = 0; i < t.Data.Length; i++) t.Data[i] = 2.0 / Dim * t.Data[i] + 0.1;
        return t;
    }

    private static double FrobeniusSquared(Matrix a) => a.Data.Sum(v => v * v);

    private static void AssertMeanZero(double[] d, double allowance, string what)
    {
        double mean = d.Average(), se = Statistics.StandardError(d);
        Assert.True(Math.Abs(mean) <= 4 * se + allowance, $"{what}: mean difference {mean:G4}, SE {se:G3}, next order {allowance:G3}");
    }

    [Fact]
    public void DecompositionMatchesTheEmpiricalNtk()
    {
        var rng = new Rng(3);
        var net = TwoLayer(48, rng.Split(1), alpha: 7);
        var x = TestData.RandomMatrix(20, Dim, 4);
        var moved = Shifted(net, 0.05, rng.Split(2), 0, 1, 2);
        var ntk0 = new EmpiricalNtk(net, x.Rows).Compute(x);
        var ntk1 = new EmpiricalNtk(moved, x.Rows).Compute(x);
        var m = ActivationFlipMovement.Measure(net, moved, x);
        Assert.Equal(EmpiricalNtk.RelativeChange(ntk0, ntk1), m.Total, 1e-10 * m.Total);
        Assert.True(m.FlipFraction > 0 && m.Flip > 0 && m.Smooth > 0, "a displacement of 0.05 flips some of 48 × 20 gates");
        // The readout alone moves no gate: all of the movement is smooth.
        var readoutOnly = ActivationFlipMovement.Measure(net, Shifted(net, 0.05, rng.Split(3), 2), x);
        Assert.Equal(0, readoutOnly.Flip);
        Assert.Equal(0, readoutOnly.FlipFraction);
        Assert.Equal(readoutOnly.Total, readoutOnly.Smooth, 1e-12);
        var still = ActivationFlipMovement.Measure(net, Shifted(net, 0, rng.Split(4)), x);
        Assert.Equal(0, still.Total);
        var tanh = new Network<double>(NetworkSpec.Parse("dense(8)-tanh-dense(1)", Parameterization.Ntk, 2, 0.1), Dim);
        Assert.Throws<BadInputException>(() => ActivationFlipMovement.Measure(tanh, tanh, x));
    }

    /// <summary>
    /// 300 networks (width 256, 48 inputs, fresh draws each) whose first layer moves by ε = s/√n per stored parameter:
    /// the counted flip part, the frozen-gate smooth part and the flip part predicted from the measured shifts against
    /// E‖J‖² = 3σ_v⁴ε‖T¹‖²/(πn) and the isotropic smooth formula. s = 0.3 is flip-dominated, s = 1 near the
    /// crossover; coherent jumps (‖J‖ ∝ flip fraction) would make ‖J‖² grow 11-fold between them instead of 3.3-fold.
    /// </summary>
    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0)]
    public void PartsOfPerturbedNetworksFollowTheFormulas(double s)
    {
        const int width = 256, inputs = 48, networks = 300;
        double eps = s / Math.Sqrt(width);
        var rng = new Rng(11);
        var dFlip = new double[networks];
        var dSmooth = new double[networks];
        var dShifts = new double[networks];
        var dCross = new double[networks];
        double flipMean = 0, smoothMean = 0;
        for (int k = 0; k < networks; k++)
        {
            var stream = rng.Split((ulong)k);
            var x = TestData.RandomMatrix(inputs, Dim, 1000 + (ulong)k);
            var net = TwoLayer(width, stream.Split(1));
            var m = ActivationFlipMovement.Measure(net, Shifted(net, eps, stream.Split(2), 0, 1), x);
            double norm = FrobeniusSquared(new EmpiricalNtk(net, inputs).Compute(x));
            var t = Tangent(x);
            double flip = ActivationFlips.IsotropicFlipMovementSquared(t, 2, width, eps) / norm;
            double smooth = ActivationFlips.IsotropicSmoothMovementSquared(t, 2, width, eps) / norm;
            dFlip[k] = m.Flip * m.Flip - flip;
            dSmooth[k] = m.Smooth * m.Smooth - smooth;
            dShifts[k] = m.Flip * m.Flip - m.PredictedFlip * m.PredictedFlip;
            dCross[k] = m.Total * m.Total - m.Smooth * m.Smooth - m.Flip * m.Flip;
            flipMean += flip / networks;
            smoothMean += smooth / networks;
        }
        AssertMeanZero(dFlip, eps * flipMean, "counted flips vs 3σ_v⁴ε‖T¹‖²/(πn)");
        AssertMeanZero(dSmooth, eps * eps * smoothMean, "frozen-gate movement vs the isotropic smooth formula");
        AssertMeanZero(dShifts, eps * flipMean, "counted flips vs the flips predicted from the measured shifts");
        AssertMeanZero(dCross, eps * (flipMean + smoothMean), "2⟨S, J⟩: the two parts add in quadrature");
    }

    /// <summary>
    /// The crossover: at fixed inputs, solve E‖S‖² = E‖J‖² for s = ε√n at widths 64 and 1024 (the first order gives s_c ∝
    /// √n, i.e. α_c ∝ n^{−1/2} in training; the coherent ε⁴ term of S lowers it at the larger width), then check on 300 (width
    /// 64) and 100 (width 1024) networks that the counted flip part equals the frozen-gate smooth part there.
    /// </summary>
    [Fact]
    public void SmoothAndFlipPartsCrossWhereTheFormulasSay()
    {
        const int inputs = 32;
        var x = TestData.RandomMatrix(inputs, Dim, 77);
        var t = Tangent(x);
        var crossings = new List<double>();
        foreach (var width in new[] { 64, 1024 })
        {
            double Gap(double s) => ActivationFlips.IsotropicSmoothMovementSquared(t, 2, width, s / Math.Sqrt(width))
                - ActivationFlips.IsotropicFlipMovementSquared(t, 2, width, s / Math.Sqrt(width));
            double sc = RootFinding.Brent(Gap, 0.01, 100, 1e-10), eps = sc / Math.Sqrt(width);
            crossings.Add(sc);
            // More flips per network at the larger width: fewer networks give the same SE.
            int networks = width == 64 ? 300 : 100;
            var rng = new Rng(23 + (ulong)width);
            var d = new double[networks];
            double flipMean = 0;
            for (int k = 0; k < networks; k++)
            {
                var net = TwoLayer(width, rng.Split((ulong)k, 1));
                var m = ActivationFlipMovement.Measure(net, Shifted(net, eps, rng.Split((ulong)k, 2), 0, 1), x);
                d[k] = m.Flip * m.Flip - m.Smooth * m.Smooth;
                flipMean += m.Flip * m.Flip / networks;
            }
            AssertMeanZero(d, eps * flipMean, $"width {width}: ‖J‖² − ‖S‖² at the predicted crossover s = {sc:G4}");
        }
        // The crossover moves out with the width: s_c(1024)/s_c(64) = 4 at first order, less with the ε⁴ term.
        Assert.InRange(crossings[1] / crossings[0], 2, 4);
    }

    /// <summary>
    /// The lazy displacement J₀ᵀA·y moves the network's training outputs by Θ̂₀·A·y, the kernel predictor's fit, up to the
    /// second order of the expansion (the bilinear readout × first-layer term, O(1/α) relative in the centred model α(f − f₀),
    /// and the units whose gates flip); measured 0.010 at α = 10 and 0.002 at α = 100. A wrong sign or scale misses by O(1).
    /// </summary>
    [Fact]
    public void LazyDisplacementReproducesTheKernelPredictor()
    {
        const int count = 24;
        var x = TestData.RandomMatrix(count, Dim, 31);
        var y = new Matrix(count, 1);
        for (int i = 0; i < count; i++) y[i, 0] = Math.Sin(x[i, 0]) + 0.5 * x[i, 1];
        double previous = double.PositiveInfinity;
        foreach (var alpha in new[] { 10.0, 100.0 })
        {
            var net = TwoLayer(128, new Rng(5), alpha);
            var theta = new EmpiricalNtk(net, count).Compute(x);
            var dynamics = new KernelDynamics(theta);
            var when = TrainingTime.Discrete(200, 0.5 * dynamics.MaxStableLearningRate);
            var lazy = ActivationFlipMovement.LazyDisplacement(net, x, dynamics, y, when);
            var fit = dynamics.Mean(theta, y, when);
            var before = Trainer<double>.Predict(net, x);
            var after = Trainer<double>.Predict(lazy, x);
            double err = 0, size = 0;
            for (int i = 0; i < count; i++)
            {
                err += Math.Pow(after[i, 0] - before[i, 0] - fit[i, 0], 2);
                size += fit[i, 0] * fit[i, 0];
            }
            double relative = Math.Sqrt(err / size);
            Assert.True(relative < 1 / alpha, $"α = {alpha}: the lazy step misses the kernel fit by {relative:G3} (relative)");
            Assert.True(relative < previous / 3, $"α = {alpha}: the miss {relative:G3} must shrink with α (was {previous:G3} at α/10)");
            previous = relative;
        }
    }
}
