using LearningMechanics.Architecture;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// The relative movement of a two-layer ReLU network's empirical NTK over a set of inputs, divided by ‖Θ̂₀‖_F and split as in
/// <see cref="ActivationFlips"/>: ΔΘ̂ = S + J.
/// </summary>
/// <param name="Total">‖Θ̂ − Θ̂₀‖/‖Θ̂₀‖ (the kernel movement).</param>
/// <param name="Smooth">‖S‖/‖Θ̂₀‖: the change with every gate 1[z_i(x) &gt; 0] frozen at its initial state.</param>
/// <param name="Flip">‖J‖/‖Θ̂₀‖: the jumps of the gate products, counted.</param>
/// <param name="PredictedFlip">√E‖J‖²/‖Θ̂₀‖ from the preactivation shifts δ_i(x) alone (<see
/// cref="ActivationFlips.FlipMovementSquared"/>, with P_i(flip at x) = p_x(0)|δ_i(x)|): no gate is looked at.</param>
/// <param name="FlipFraction">The fraction of (unit, input) pairs whose gate flipped.</param>
public sealed record FlipDecomposition(double Total, double Smooth, double Flip, double PredictedFlip, double FlipFraction)
{
    /// <summary>√(S² + E‖J‖²): the movement the smooth part and the predicted flips give together (they are
    /// uncorrelated).</summary>
    public double PredictedTotal => Math.Sqrt(Smooth * Smooth + PredictedFlip * PredictedFlip);
}

/// <summary>
/// Measures the split of the kernel movement into its smooth and gate-flip parts for networks <c>dense(n)-relu-dense(1)</c>
/// (docs/notes/relu-flips.md), from the closed form Θ̂ = m_v²·[ΦΦᵀ + T¹ ⊙ (G·diag(v²)·Gᵀ)] + m_o² of the two-layer NTK
/// (Jacot et al. 2018), and builds the lazy displacement θ₀ + J₀ᵀ·A·y that linearised gradient descent predicts
/// (Lee et al. 2019), so that the movement can be predicted from the initial network alone.
/// </summary>
public static class ActivationFlipMovement
{
    /// <summary>
    /// The movement from <paramref name="initial"/> to <paramref name="moved"/> (same architecture) on the rows of
    /// <paramref name="probe"/>. The readout's multiplier may contain an output scale α; the ratios do not depend on it.
    /// </summary>
    public static FlipDecomposition Measure(Network<double> initial, Network<double> moved, Matrix probe)
    {
        var a = TwoLayer.Of(initial);
        var b = TwoLayer.Of(moved);
        if (a.Width != b.Width || a.InputDim != b.InputDim || a.ReadoutMultiplier != b.ReadoutMultiplier
            || a.WeightMultiplier != b.WeightMultiplier || a.BiasMultiplier != b.BiasMultiplier)
            throw new BadInputException("The two networks must have the same architecture and parameterisation.");
        if (probe.Cols != a.InputDim) throw new BadInputException($"Probe inputs have {probe.Cols} features, the network {a.InputDim}.");
        int p = probe.Rows, n = a.Width;
        var tangent = a.Tangent(probe);
        var z0 = a.Preactivations(probe);
        var z1 = b.Preactivations(probe);
        var theta0 = a.Kernel(tangent, z0, z0, a.Readout);
        var theta1 = b.Kernel(tangent, z1, z1, b.Readout);
        var frozen = b.Kernel(tangent, z1, z0, b.Readout);
        double norm0 = FrobeniusSquared(theta0, null);
        double smooth = FrobeniusSquared(frozen, theta0), flip = FrobeniusSquared(theta1, frozen), total = FrobeniusSquared(theta1, theta0);

        var rates = new double[p];
        long flips = 0;
        for (int x = 0; x < p; x++)
        {
            double density = ActivationFlips.DensityAtZero(a.PreactivationVariance(probe.Row(x))), r = 0;
            for (int i = 0; i < n; i++)
            {
                double v2 = a.Readout[i] * a.Readout[i], before = z0[x, i], after = z1[x, i];
                r += v2 * v2 * Math.Abs(after - before);
                if (before > 0 != after > 0) flips++;
            }
            rates[x] = density * r / n;
        }
        double predicted = ActivationFlips.FlipMovementSquared(tangent, rates, a.ReadoutVariance, n);
        return new FlipDecomposition(Math.Sqrt(total / norm0), Math.Sqrt(smooth / norm0), Math.Sqrt(flip / norm0),
            Math.Sqrt(predicted / norm0), (double)flips / ((long)p * n));
    }

    /// <summary>
    /// A copy of <paramref name="initial"/> moved to θ₀ + J₀ᵀ·A·y: where gradient descent on the MSE would take it if the
    /// network were its linearisation (Lee et al. 2019), with A = V·diag(a(λ))·Vᵀ the operator of <paramref name="dynamics"/>
    /// (built from the network's own Θ̂₀ on <paramref name="trainInputs"/>) at time <paramref name="when"/> and y the targets of
    /// the centred model α(f − f₀). Any architecture with one output and unit learning-rate factors (ntk, sp).
    /// </summary>
    public static Network<double> LazyDisplacement(Network<double> initial, Matrix trainInputs, KernelDynamics dynamics,
        Matrix targets, TrainingTime when)
    {
        if (initial.OutputDim != 1 || targets.Cols != 1) throw new BadInputException("The lazy displacement needs one output.");
        int count = trainInputs.Rows;
        // Θ*·A·y with Θ* = I is A·y: the dual coefficients of the linearised predictor.
        var coefficients = dynamics.Mean(Matrix.Identity(count), targets, when);
        var ws = initial.CreateWorkspace(count);
        initial.Forward(trainInputs.Data, ws);
        var step = new double[initial.ParameterCount];
        initial.Backward(ws, coefficients.Data, step);
        var moved = new Network<double>(initial.Spec, initial.InputDim, initial.ZeroReadout);
        for (int i = 0; i < step.Length; i++) moved.Parameters[i] = initial.Parameters[i] + step[i];
        return moved;
    }

    /// <summary>‖a − b‖²_F (‖a‖²_F when b is null).</summary>
    private static double FrobeniusSquared(Matrix a, Matrix? b)
    {
        double s = 0;
        for (int i = 0; i < a.Data.Length; i++)
        {
            double d = a.Data[i] - (b is null ? 0 : b.Data[i]);
            s += d * d;
        }
        return s;
    }

    /// <summary>The tensors of a network dense(n)-relu-dense(1) and its two-layer NTK.</summary>
    private sealed record TwoLayer(Matrix Weights, double[] Biases, double[] Readout, double WeightMultiplier, double BiasMultiplier,
        double ReadoutMultiplier, double OutputBiasMultiplier, double WeightStd, double BiasStd)
    {
        public int Width => Weights.Rows;
        public int InputDim => Weights.Cols;
        public double ReadoutVariance => ReadoutMultiplier * ReadoutMultiplier * Width;

        public static TwoLayer Of(Network<double> net)
        {
            var layers = net.Spec.Layers;
            if (layers.Count != 3 || layers[0] is not Dense || layers[1] is not ActivationLayer { Activation: Relu }
                || layers[2] is not Dense || net.OutputDim != 1)
                throw new BadInputException($"Activation flips are measured for dense(n)-relu-dense(1), not '{net.Spec.ToText()}'.");
            ParameterTensor w = net.Tensors[0], b = net.Tensors[1], v = net.Tensors[2], c = net.Tensors[3];
            var p = net.Parameters;
            return new TwoLayer(new Matrix(w.Shape[0], w.Shape[1], p.AsSpan(w.Offset, w.Length).ToArray()),
                p.AsSpan(b.Offset, b.Length).ToArray(), p.AsSpan(v.Offset, v.Length).ToArray(), w.Rule.Multiplier,
                b.Rule.Multiplier, v.Rule.Multiplier, c.Rule.Multiplier, w.Rule.InitStd, b.Rule.InitStd);
        }

        /// <summary>T¹(x, x′) = m_W²·x·x′ + m_b²: the first layer's parameter tangent.</summary>
        public Matrix Tangent(Matrix x)
        {
            var t = Matrix.Multiply(x, x, Transpose.No, Transpose.Yes);
            double w2 = WeightMultiplier * WeightMultiplier, b2 = BiasMultiplier * BiasMultiplier;
            for (int i = 0; i < t.Data.Length; i++) t.Data[i] = w2 * t.Data[i] + b2;
            return t;
        }

        /// <summary>Var z_i(x) at initialisation: (m_W s_W)²‖x‖² + (m_b s_b)².</summary>
        public double PreactivationVariance(ReadOnlySpan<double> x)
        {
            double xx = 0;
            foreach (var u in x) xx += u * u;
            return Math.Pow(WeightMultiplier * WeightStd, 2) * xx + Math.Pow(BiasMultiplier * BiasStd, 2);
        }

        /// <summary>z = m_W·X·Wᵀ + m_b·b (inputs × units).</summary>
        public Matrix Preactivations(Matrix x)
        {
            var z = Matrix.Multiply(x, Weights, Transpose.No, Transpose.Yes);
            for (int r = 0; r < z.Rows; r++)
            {
                var row = z.Row(r);
                for (int i = 0; i < row.Length; i++) row[i] = WeightMultiplier * row[i] + BiasMultiplier * Biases[i];
            }
            return z;
        }

        /// <summary>m_v²·[ΦΦᵀ + T¹ ⊙ (G·diag(v²)·Gᵀ)] + m_o² with Φ = relu(z) and the gates G = 1[gates &gt; 0].</summary>
        public Matrix Kernel(Matrix tangent, Matrix z, Matrix gates, double[] readout)
        {
            var phi = new Matrix(z.Rows, z.Cols);
            var gv = new Matrix(z.Rows, z.Cols);
            for (int r = 0; r < z.Rows; r++)
                for (int i = 0; i < z.Cols; i++)
                {
                    phi[r, i] = Math.Max(z[r, i], 0);
                    gv[r, i] = gates[r, i] > 0 ? readout[i] : 0;
                }
            var k = Matrix.Multiply(phi, phi, Transpose.No, Transpose.Yes);
            var g = Matrix.Multiply(gv, gv, Transpose.No, Transpose.Yes);
            double m2 = ReadoutMultiplier * ReadoutMultiplier, o2 = OutputBiasMultiplier * OutputBiasMultiplier;
            for (int i = 0; i < k.Data.Length; i++) k.Data[i] = m2 * (k.Data[i] + tangent.Data[i] * g.Data[i]) + o2;
            return k;
        }
    }
}
