using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.Kernels;

/// <summary>
/// A <see cref="NetworkSpec"/> as the flat list of its layers' kernel steps (<see cref="KernelStep"/>; residual blocks
/// become entry and exit steps around their block), checked for what the infinite-width kernels need (a kernel limit
/// exists for the parameterisation; see <see cref="KernelBuilder"/> for the rest), and run for single inputs (their
/// diagonal traces) and for pairs. The formulas are on the layer types' files.
/// </summary>
internal sealed class CompiledNetwork
{
    private readonly KernelStep[] steps;
    private readonly bool ntk;

    /// <summary>Deepest nesting of residual blocks (size of the entry stack).</summary>
    public int MaxNesting { get; }

    /// <summary>Indices of the steps whose output is a top-level Dense layer's preactivation.</summary>
    public List<int> DenseOutputs { get; }

    private CompiledNetwork(KernelBuilder b)
    {
        steps = [.. b.Steps];
        ntk = b.Ntk;
        MaxNesting = b.MaxNesting;
        DenseOutputs = b.DenseOutputs;
    }

    public static CompiledNetwork Compile(NetworkSpec spec, int inputDim, bool ntk)
    {
        // Throws for μP and mean-field, whose infinite-width training has no fixed kernel.
        ParameterRule.DenseKernel(spec.Param, inputDim, spec.Sw2, spec.Sb2);
        var b = new KernelBuilder(spec, inputDim, ntk);
        b.AddLayers(spec.Layers);
        return new CompiledNetwork(b);
    }

    /// <summary>
    /// Diagonal traces: for every input, the variance K(x, x), feature mean and NTK Θ(x, x) before each step (and after
    /// the last), stored as [V, M, T] triples.
    /// </summary>
    public double[][] Traces(Matrix x, CancellationToken ct)
    {
        var traces = new double[x.Rows][];
        Parallel.For(0, x.Rows, new ParallelOptions { CancellationToken = ct }, i =>
        {
            var row = x.Row(i);
            double sq = 0;
            double mean = 0;
            foreach (var v in row)
            {
                sq += v * v;
                mean += v;
            }
            traces[i] = Trace(sq / row.Length, mean / row.Length);
        });
        return traces;
    }

    private double[] Trace(double k0, double mean0)
    {
        var tr = new double[3 * (steps.Length + 1)];
        double k = k0;
        double m = mean0;
        double t = 0;
        Span<double> stack = stackalloc double[2 * MaxNesting + 2];
        var means = new Stack<double>();
        int sp = 0;
        for (int s = 0; s < steps.Length; s++)
        {
            tr[3 * s] = k;
            tr[3 * s + 1] = m;
            tr[3 * s + 2] = t;
            double kIn = k;
            steps[s].Check(k, m);
            steps[s].Pair(ref k, ref t, kIn, kIn, m, m, stack, ref sp);
            m = steps[s].Mean(m, kIn, means);
            if (!double.IsFinite(k) || !double.IsFinite(t))
                throw new BadInputException($"The kernel recursion overflows float64 at layer op {s} (K = {k}, Θ = {t}): the " +
                    "weight variance, an activation's parameter or the input scale is too large for this depth.");
        }
        tr[3 * steps.Length] = k;
        tr[3 * steps.Length + 1] = m;
        tr[3 * steps.Length + 2] = t;
        return tr;
    }

    /// <summary>K(x, x) and Θ(x, x) at the output, read from an input's trace (Θ is NaN without the NTK).</summary>
    public (double K, double T) Final(double[] trace) => (trace[3 * steps.Length], ntk ? trace[3 * steps.Length + 2] : double.NaN);

    /// <summary>
    /// (K, Θ) of one input pair with base kernel <paramref name="k0"/> = x·x′/d, using both inputs' traces.
    /// <paramref name="observe"/> (step index, K, Θ) is called after every step when given.
    /// </summary>
    public (double K, double T) Entry(double k0, double[] a, double[] b, Span<double> stack, Action<int, double, double>? observe)
    {
        double k = k0;
        double t = 0;
        int sp = 0;
        for (int s = 0; s < steps.Length; s++)
        {
            steps[s].Pair(ref k, ref t, a[3 * s], b[3 * s], a[3 * s + 1], b[3 * s + 1], stack, ref sp);
            observe?.Invoke(s, k, t);
        }
        return (k, ntk ? t : double.NaN);
    }

    /// <summary>
    /// <see cref="Entry"/> for input <paramref name="a"/> against the inputs from…from + k.Length − 1 of
    /// <paramref name="byOp"/> (<see cref="ByOp"/>) at once: <paramref name="k"/> holds their base kernels x·x′/d on entry
    /// and K on return, <paramref name="t"/> receives Θ (NaN without the NTK). The dispatch happens once per row instead
    /// of once per entry; each entry gets the same arithmetic as <see cref="Entry"/>, so the results are bit-identical.
    /// <paramref name="stack"/> needs 2·<see cref="MaxNesting"/> rows of at least k.Length.
    /// </summary>
    public void Row(double[] a, double[][] byOp, int from, Span<double> k, Span<double> t, double[][] stack)
    {
        int count = k.Length;
        int sp = 0;
        var tRow = t[..count];
        tRow.Clear();
        for (int s = 0; s < steps.Length; s++)
        {
            var v2 = byOp[2 * s].AsSpan(from, count);
            var m2 = byOp[2 * s + 1].AsSpan(from, count);
            steps[s].Row(a[3 * s], a[3 * s + 1], v2, m2, k, tRow, stack, ref sp);
        }
        if (!ntk) tRow.Fill(double.NaN);
    }

    /// <summary>The traces' variances and feature means step by step over the inputs: [2s][j] = V, [2s + 1][j] = M of input j
    /// before step s (the layout <see cref="Row"/> reads).</summary>
    public double[][] ByOp(double[][] traces)
    {
        var table = new double[2 * steps.Length][];
        for (int s = 0; s < steps.Length; s++)
        {
            table[2 * s] = new double[traces.Length];
            table[2 * s + 1] = new double[traces.Length];
            for (int j = 0; j < traces.Length; j++)
            {
                table[2 * s][j] = traces[j][3 * s];
                table[2 * s + 1][j] = traces[j][3 * s + 1];
            }
        }
        return table;
    }
}
