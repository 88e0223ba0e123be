using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// The singular-mode strengths u_α = u_αᵀ·W_D⋯W₁·v_α of a deep linear network (dense layers with no nonlinearity), the
/// observable of Saxe et al. 2014, with the buffers allocated once so that it can be read at every training step; and the
/// initialisations of that setting (decoupled and balanced, or the growing part of a small random one).
/// </summary>
public sealed class LinearModes
{
    private readonly Network<double> net;
    private readonly Matrix outputModes;
    private readonly Matrix inputModes;
    private readonly double[] bufferA;
    private readonly double[] bufferB;

    /// <param name="net">A network of dense layers with linear (or no) activations between them.</param>
    /// <param name="outputModes">u_α as columns (d_out × r).</param>
    /// <param name="inputModes">v_α as columns (d_in × r).</param>
    public LinearModes(Network<double> net, Matrix outputModes, Matrix inputModes)
    {
        if (net.Spec.Layers.Any(l => l is not Dense && l is not ActivationLayer { Activation.Name: "linear" }))
            throw new BadInputException($"Mode strengths need a deep linear network (dense layers only), not {net.Spec.ToText()}.");
        if (outputModes.Rows != net.OutputDim || inputModes.Rows != net.InputDim || outputModes.Cols != inputModes.Cols)
            throw new BadInputException($"Modes of shape {outputModes.Rows}×{outputModes.Cols} and {inputModes.Rows}×" +
                $"{inputModes.Cols} do not fit a network {net.InputDim} → {net.OutputDim}.");
        this.net = net;
        this.outputModes = outputModes;
        this.inputModes = inputModes;
        int widest = Enumerable.Range(0, net.DenseCount).Max(l => net.Tensors[2 * l].Shape[0]);
        bufferA = new double[Math.Max(widest, net.InputDim)];
        bufferB = new double[bufferA.Length];
    }

    public int Count => inputModes.Cols;

    /// <summary>u_α for every mode from the network's current parameters, written into <paramref name="strengths"/>.</summary>
    public void Measure(Span<double> strengths)
    {
        for (int a = 0; a < Count; a++)
        {
            int dim = net.InputDim;
            for (int j = 0; j < dim; j++) bufferA[j] = inputModes[j, a];
            var current = bufferA;
            var next = bufferB;
            for (int l = 0; l < net.DenseCount; l++)
            {
                var t = net.Tensors[2 * l];
                int rows = t.Shape[0];
                var w = net.Parameters.AsSpan(t.Offset, t.Length);
                for (int i = 0; i < rows; i++)
                {
                    double sum = 0;
                    var row = w.Slice(i * dim, dim);
                    for (int j = 0; j < dim; j++) sum += row[j] * current[j];
                    next[i] = t.Rule.Multiplier * sum;
                }
                (current, next) = (next, current);
                dim = rows;
            }
            double u = 0;
            for (int o = 0; o < dim; o++) u += outputModes[o, a] * current[o];
            strengths[a] = u;
        }
    }

    /// <summary>
    /// The growing part of a two-layer network's initial mode strengths: with a_α = W₁v_α and b_α = W₂ᵀu_α, gradient flow
    /// grows p = (a + b)/2 as e^{s t/τ} and shrinks q = (a − b)/2 as e^{−s t/τ} while ‖a‖², ‖b‖² ≪ s (τȧ = s·b, τḃ
    /// = s·a; Saxe et al. 2014, eq. 4 linearised), and u = ‖p‖² − ‖q‖². So the logistic u(t) of
    /// <c>DeepLinearModes.TwoLayerStrength</c> starts from the effective u₀ = ‖p₀‖², not from the initial value of u. This
    /// and <see cref="InitializeDecoupled"/>'s mode law assume the two layers' effective learning rates are equal
    /// (multiplier² × learning-rate factor), as in SP, which the experiment uses.
    /// </summary>
    public double[] GrowingStrengths()
    {
        if (net.DenseCount != 2)
            throw new BadInputException($"The growing strengths are defined for two layers, not {net.DenseCount}.");
        var w1 = net.EffectiveWeight(0);
        var w2 = net.EffectiveWeight(1);
        var result = new double[Count];
        for (int a = 0; a < Count; a++)
        {
            double norm = 0;
            for (int h = 0; h < w1.Rows; h++)
            {
                double wa = 0, wb = 0;
                for (int j = 0; j < w1.Cols; j++) wa += w1[h, j] * inputModes[j, a];
                for (int o = 0; o < w2.Rows; o++) wb += w2[o, h] * outputModes[o, a];
                norm += 0.25 * (wa + wb) * (wa + wb);
            }
            result[a] = norm;
        }
        return result;
    }

    /// <summary>
    /// Sets the weights to a decoupled balanced initialisation with mode strengths u₀ (Saxe et al. 2014): every layer
    /// has singular values a = u₀^{1/D} along the modes, W₁ = R₁·a·Vᵀ, W_l = R_l·a·R_{l−1}ᵀ, W_D = U·a·R_{D−1}ᵀ with
    /// random orthonormal R_l (hidden width × r), and biases 0. Each mode then obeys τu̇ = D·u^{2−2/D}(s − u) exactly under flow.
    /// </summary>
    public void InitializeDecoupled(double u0, Rng rng)
    {
        if (!(u0 > 0)) throw new BadInputException($"Initial mode strength u₀ = {u0} must be > 0.");
        int depth = net.DenseCount;
        int r = Count;
        double a = Math.Pow(u0, 1.0 / depth);
        Array.Clear(net.Parameters);
        Matrix left = inputModes;
        for (int l = 0; l < depth; l++)
        {
            var t = net.Tensors[2 * l];
            int rows = t.Shape[0];
            if (l < depth - 1 && rows < r) throw new BadInputException($"Hidden width {rows} is below the number of modes {r}.");
            var right = l == depth - 1 ? outputModes : LinearTeacher.OrthonormalColumns(rows, r, rng.Split((ulong)l));
            var w = net.Parameters.AsSpan(t.Offset, t.Length);
            int cols = t.Shape[1];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    double sum = 0;
                    for (int m = 0; m < r; m++) sum += right[i, m] * left[j, m];
                    w[i * cols + j] = a * sum / t.Rule.Multiplier;
                }
            left = right;
        }
    }
}
