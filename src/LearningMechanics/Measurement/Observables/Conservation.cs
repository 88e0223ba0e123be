using LearningMechanics.Architecture;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// Quantities conserved by gradient flow (Du et al. 2018), in the stored parameters.
/// For two dense layers joined by a positively homogeneous φ (ReLU, leaky ReLU, abs, linear), f is invariant under
/// (w_in,j, b_j) → c·(w_in,j, b_j), w_out,·j → w_out,·j/c, so every neuron j keeps ‖w_in,j‖² + b_j² − ‖w_out,·j‖²;
/// for linear φ the whole matrix W_ℓW_ℓᵀ + b_ℓb_ℓᵀ − W_{ℓ+1}ᵀW_{ℓ+1} (balancedness) is conserved. Both need equal
/// learning-rate factors on the two layers; discrete GD changes them by O(η²) per step, O(η) over a fixed time ηT.
/// </summary>
public static class Conservation
{
    /// <summary>One junction between dense layers <see cref="Layer"/> and Layer + 1.</summary>
    public sealed record Junction(int Layer, double[] PerNeuron, Matrix? Balancedness);

    public static List<Junction> Measure(Network<double> net) =>
        [.. JunctionLayers(net).Select(j => At(net, j.Layer, j.Linear))];

    /// <summary>
    /// The exact change of every neuron's ‖w_in,j‖² + b_j² − ‖w_out,·j‖² in one gradient step θ ← θ − η·g, divided by
    /// η²: ‖g_in,j‖² + g_b,j² − ‖g_out,·j‖², every neuron of every junction in the order of <see cref="Balances"/>. The
    /// first order in η vanishes because w·∂L/∂w = v·∂L/∂v for a rescaling symmetry (Kunin et al. 2021; Du et al. 2018), so GD
    /// with equal learning-rate factors on the two layers changes the quantity by exactly η² times this, and the flow not at all.
    /// </summary>
    public static double[] StepChangeOverEta2(Network<double> net, ReadOnlySpan<double> gradient) => Concat(net, gradient);

    /// <summary>Every neuron's ‖w_in,j‖² + b_j² − ‖w_out,·j‖², junction after junction as in <see cref="Measure"/>, without
    /// the balancedness matrices.</summary>
    public static double[] Balances(Network<double> net) => Concat(net, net.Parameters);

    private static double[] Concat(Network<double> net, ReadOnlySpan<double> x)
    {
        var result = new List<double>();
        foreach (var (l, _) in JunctionLayers(net)) result.AddRange(Balance(net, l, x));
        return [.. result];
    }

    private static List<(int Layer, bool Linear)> JunctionLayers(Network<double> net)
    {
        var result = new List<(int, bool)>();
        int dense = -1;
        bool homogeneous = false;
        bool linear = false;
        foreach (var layer in net.Spec.Layers)
        {
            switch (layer)
            {
                case Dense:
                    if (dense >= 0 && homogeneous) result.Add((dense, linear));
                    dense++; homogeneous = true; linear = true;
                    break;
                case ActivationLayer a:
                    homogeneous &= a.Activation.IsScaleInvariant;
                    linear &= a.Activation is Architecture.Linear;
                    break;
                default:
                    // Residual blocks and LayerNorm break the two-layer rescaling symmetry.
                    if (layer is Residual r) dense += CountDense(r.Block);
                    homogeneous = false; linear = false;
                    break;
            }
        }
        return result;
    }

    private static int CountDense(IEnumerable<Layer> layers) =>
        layers.Sum(l => l switch { Dense => 1, Residual r => CountDense(r.Block), _ => 0 });

    private static Junction At(Network<double> net, int l, bool linear)
    {
        var w = net.Tensors[2 * l];
        var b = net.Tensors[2 * l + 1];
        var w2 = net.Tensors[2 * (l + 1)];
        int width = w.Shape[0];
        int fanIn = w.Shape[1];
        int fanOut = w2.Shape[0];
        var p = net.Parameters;
        var c = Balance(net, l, p);
        Matrix? d = null;
        if (linear)
        {
            var win = new Matrix(width, fanIn + 1);
            for (int j = 0; j < width; j++)
            {
                p.AsSpan(w.Offset + j * fanIn, fanIn).CopyTo(win.Row(j));
                win[j, fanIn] = p[b.Offset + j];
            }
            var wout = new Matrix(fanOut, width, p.AsSpan(w2.Offset, w2.Length).ToArray());
            d = Matrix.Multiply(win, win, Transpose.No, Transpose.Yes);
            var o = Matrix.Multiply(wout, wout, Transpose.Yes);
            for (int i = 0; i < d.Data.Length; i++) d.Data[i] -= o.Data[i];
        }
        return new Junction(l, c, d);
    }

    /// <summary>‖x_in,j‖² + x_b,j² − ‖x_out,·j‖² for every neuron j between dense layers l and l + 1 of a vector x laid out
    /// like the parameters (the parameters themselves, or a gradient).</summary>
    private static double[] Balance(Network<double> net, int l, ReadOnlySpan<double> x)
    {
        var w = net.Tensors[2 * l];
        var b = net.Tensors[2 * l + 1];
        var w2 = net.Tensors[2 * (l + 1)];
        int width = w.Shape[0];
        int fanIn = w.Shape[1];
        int fanOut = w2.Shape[0];
        var c = new double[width];
        for (int j = 0; j < width; j++)
        {
            double s = x[b.Offset + j] * x[b.Offset + j];
            for (int i = 0; i < fanIn; i++) s += x[w.Offset + j * fanIn + i] * x[w.Offset + j * fanIn + i];
            for (int k = 0; k < fanOut; k++) s -= x[w2.Offset + k * width + j] * x[w2.Offset + k * width + j];
            c[j] = s;
        }
        return c;
    }
}
