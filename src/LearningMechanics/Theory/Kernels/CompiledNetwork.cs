using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.Kernels;

/// <summary>
/// A <see cref="NetworkSpec"/> flattened into kernel operations (residual blocks become begin/end markers), checked for
/// what the infinite-width kernels need: activations act on Gaussian preactivations, residual blocks keep the width,
/// a kernel limit exists for the parameterisation, and φ′ exists when the NTK is asked for. The recursion formulas are
/// listed on <see cref="NeuralKernels"/>.
/// </summary>
internal sealed class CompiledNetwork
{
    private abstract record Op;
    private sealed record DenseOp(double Sw2, double Sb2, int FanIn, bool Standard) : Op;
    private sealed record ActOp(Activation Phi) : Op;
    private sealed record NormOp : Op;
    private sealed record ResBeginOp : Op;
    private sealed record ResEndOp(double Scale2, double Identity) : Op;

    private readonly List<Op> ops = [];
    private readonly bool ntk;

    /// <summary>Deepest nesting of residual blocks (size of the entry stack).</summary>
    public int MaxNesting { get; private set; }

    /// <summary>Indices of the ops whose output is a top-level Dense layer's preactivation.</summary>
    public List<int> DenseOutputs { get; } = [];

    private CompiledNetwork(bool ntk) => this.ntk = ntk;

    public static CompiledNetwork Compile(NetworkSpec spec, int inputDim, bool ntk)
    {
        if (spec.Param is Parameterization.MuP or Parameterization.MeanField)
            throw new BadInputException($"Under {(spec.Param == Parameterization.MuP ? "μP" : "mean-field")} parameterisation the infinite-width network learns features: " +
                "its training is not described by a fixed kernel, and the output NNGP at initialisation vanishes (readout variance ∝ 1/fan_in²). " +
                "Use --param ntk or sp for infinite-width kernels.");
        var net = new CompiledNetwork(ntk);
        int width = inputDim;
        bool gaussian = false;
        net.Add(spec, spec.Layers, ref width, ref gaussian, 0, topLevel: true);
        return net;
    }

    private void Add(NetworkSpec spec, IReadOnlyList<Layer> layers, ref int width, ref bool gaussian, int nesting, bool topLevel)
    {
        MaxNesting = Math.Max(MaxNesting, nesting);
        foreach (var layer in layers)
        {
            switch (layer)
            {
                case Dense dense:
                    ops.Add(new DenseOp(dense.Sw2 ?? spec.Sw2, dense.Sb2 ?? spec.Sb2, width, spec.Param == Parameterization.Standard));
                    if (topLevel) DenseOutputs.Add(ops.Count - 1);
                    width = dense.Width;
                    gaussian = true;
                    break;
                case ActivationLayer act:
                    if (!gaussian)
                        throw new BadInputException($"Activation '{act.Activation.Name}' must act on preactivations: put a dense layer before it (the infinite-width kernel needs Gaussian inputs to φ).");
                    if (ntk && !act.Activation.IsDifferentiable)
                        throw new BadInputException($"Activation '{act.Activation.Name}' has no derivative, so the NTK is undefined; ask for the NNGP kernel only.");
                    ops.Add(new ActOp(act.Activation));
                    gaussian = false;
                    break;
                case LayerNorm:
                    ops.Add(new NormOp());
                    break;
                case Residual res:
                    ops.Add(new ResBeginOp());
                    int inner = width;
                    bool innerGaussian = gaussian;
                    Add(spec, res.Block, ref inner, ref innerGaussian, nesting + 1, topLevel: false);
                    if (inner != width)
                        throw new BadInputException($"Residual block '{string.Join("-", res.Block.Select(l => l.ToText()))}' maps width {width} to {inner}; it must keep the width.");
                    ops.Add(new ResEndOp(res.BranchScale * res.BranchScale, res.IdentityScale));
                    // h + s·(Gaussian independent of h) is Gaussian only when h is.
                    break;
                default:
                    throw new ArgumentException($"Unsupported layer {layer}.");
            }
        }
    }

    /// <summary>
    /// Diagonal traces: for every input, the variance K(x, x), feature mean and NTK Θ(x, x) before each op (and after
    /// the last), stored as [V, M, T] triples.
    /// </summary>
    public double[][] Traces(Matrix x, CancellationToken ct)
    {
        var traces = new double[x.Rows][];
        Parallel.For(0, x.Rows, new ParallelOptions { CancellationToken = ct }, i =>
        {
            var row = x.Row(i);
            double sq = 0, mean = 0;
            foreach (var v in row) { sq += v * v; mean += v; }
            traces[i] = Trace(sq / row.Length, mean / row.Length);
        });
        return traces;
    }

    private double[] Trace(double k0, double mean0)
    {
        var tr = new double[3 * (ops.Count + 1)];
        double k = k0, m = mean0, t = 0;
        Span<double> stack = stackalloc double[2 * MaxNesting + 2];
        var means = new Stack<double>();
        int sp = 0;
        for (int s = 0; s < ops.Count; s++)
        {
            tr[3 * s] = k; tr[3 * s + 1] = m; tr[3 * s + 2] = t;
            double kIn = k;
            if (ops[s] is NormOp && !(k - m * m > 0))
                throw new BadInputException($"LayerNorm of a representation with zero variance (K = {k}, mean = {m}).");
            Step(ops[s], ref k, ref t, kIn, kIn, m, m, stack, ref sp);
            // The feature mean: zero after Dense and LayerNorm, E[φ(u)] after φ, the skip path's after a residual block.
            switch (ops[s])
            {
                case DenseOp or NormOp: m = 0; break;
                case ActOp a: m = a.Phi.Moment(1, kIn); break;
                case ResBeginOp: means.Push(m); break;
                case ResEndOp e: m = e.Identity * means.Pop(); break;
            }
            if (!double.IsFinite(k) || !double.IsFinite(t))
                throw new ArithmeticException($"Kernel recursion diverged at layer op {s} (K = {k}, Θ = {t}).");
        }
        tr[3 * ops.Count] = k; tr[3 * ops.Count + 1] = m; tr[3 * ops.Count + 2] = t;
        return tr;
    }

    /// <summary>K(x, x) and Θ(x, x) at the output, read from an input's trace (Θ is NaN without the NTK).</summary>
    public (double K, double T) Final(double[] trace) => (trace[3 * ops.Count], ntk ? trace[3 * ops.Count + 2] : double.NaN);

    /// <summary>
    /// (K, Θ) of one input pair with base kernel <paramref name="k0"/> = x·x′/d, using both inputs' traces.
    /// <paramref name="observe"/> (op index, K, Θ) is called after every op when given.
    /// </summary>
    public (double K, double T) Entry(double k0, double[] a, double[] b, Span<double> stack, Action<int, double, double>? observe)
    {
        double k = k0, t = 0;
        int sp = 0;
        for (int s = 0; s < ops.Count; s++)
        {
            Step(ops[s], ref k, ref t, a[3 * s], b[3 * s], a[3 * s + 1], b[3 * s + 1], stack, ref sp);
            observe?.Invoke(s, k, t);
        }
        return (k, ntk ? t : double.NaN);
    }

    /// <summary>One op of the recursion for a pair with variances v1, v2 and feature means m1, m2 (formulas on <see cref="NeuralKernels"/>).</summary>
    private void Step(Op op, ref double k, ref double t, double v1, double v2, double m1, double m2, Span<double> stack, ref int sp)
    {
        switch (op)
        {
            case DenseOp d: DenseStep(d, ref k, ref t); break;
            case ActOp act: ActStep(act, ref k, ref t, v1, v2); break;
            case NormOp: NormStep(ref k, ref t, v1, v2, m1, m2); break;
            case ResBeginOp:
                stack[sp++] = k; stack[sp++] = t;
                break;
            case ResEndOp e:
                double t0 = stack[--sp], k0 = stack[--sp];
                ResEndStep(e, ref k, ref t, k0, t0);
                break;
        }
    }

    /// <summary>
    /// <see cref="Entry"/> for input <paramref name="a"/> against the inputs from…from + k.Length − 1 of
    /// <paramref name="byOp"/> (<see cref="ByOp"/>) at once: <paramref name="k"/> holds their base kernels x·x′/d on entry
    /// and K on return, <paramref name="t"/> receives Θ (NaN without the NTK). The op dispatch happens once per row instead
    /// of once per entry; each entry gets the same arithmetic as <see cref="Entry"/>, so the results are bit-identical.
    /// <paramref name="stack"/> needs 2·<see cref="MaxNesting"/> rows of at least k.Length.
    /// </summary>
    public void Row(double[] a, double[][] byOp, int from, Span<double> k, Span<double> t, double[][] stack)
    {
        int count = k.Length, sp = 0;
        t[..count].Clear();
        for (int s = 0; s < ops.Count; s++)
        {
            double v1 = a[3 * s], m1 = a[3 * s + 1];
            var v2 = byOp[2 * s].AsSpan(from, count);
            switch (ops[s])
            {
                case DenseOp d:
                    for (int j = 0; j < count; j++) DenseStep(d, ref k[j], ref t[j]);
                    break;
                case ActOp act:
                    for (int j = 0; j < count; j++) ActStep(act, ref k[j], ref t[j], v1, v2[j]);
                    break;
                case NormOp:
                    var m2 = byOp[2 * s + 1].AsSpan(from, count);
                    for (int j = 0; j < count; j++) NormStep(ref k[j], ref t[j], v1, v2[j], m1, m2[j]);
                    break;
                case ResBeginOp:
                    k.CopyTo(stack[sp++]); t[..count].CopyTo(stack[sp++]);
                    break;
                case ResEndOp e:
                    var t0 = stack[--sp]; var k0 = stack[--sp];
                    for (int j = 0; j < count; j++) ResEndStep(e, ref k[j], ref t[j], k0[j], t0[j]);
                    break;
            }
        }
        if (!ntk) t[..count].Fill(double.NaN);
    }

    /// <summary>The traces' variances and feature means op by op over the inputs: [2s][j] = V, [2s + 1][j] = M of input j
    /// before op s (the layout <see cref="Row"/> reads).</summary>
    public double[][] ByOp(double[][] traces)
    {
        var table = new double[2 * ops.Count][];
        for (int s = 0; s < ops.Count; s++)
        {
            table[2 * s] = new double[traces.Length]; table[2 * s + 1] = new double[traces.Length];
            for (int j = 0; j < traces.Length; j++) { table[2 * s][j] = traces[j][3 * s]; table[2 * s + 1][j] = traces[j][3 * s + 1]; }
        }
        return table;
    }

    private static void DenseStep(DenseOp d, ref double k, ref double t)
    {
        double kPrev = k;
        k = d.Sw2 * k + d.Sb2;
        t = d.Standard ? d.Sw2 * t + d.FanIn * kPrev + 1 : d.Sw2 * t + k;
    }

    private void ActStep(ActOp act, ref double k, ref double t, double v1, double v2)
    {
        // E[φ(u)φ(v)] is symmetric in the pair; a canonical order makes K(x, x′) and K(x′, x) bit-identical
        // (quadrature conditions on the first variable).
        if (v1 > v2) (v1, v2) = (v2, v1);
        if (ntk)
        {
            var (e, ed) = act.Phi.PairAndDerivativeExpectation(v1, k, v2);
            t *= ed; k = e;
        }
        else k = act.Phi.PairExpectation(v1, k, v2);
    }

    private static void NormStep(ref double k, ref double t, double v1, double v2, double m1, double m2)
    {
        double norm = Math.Sqrt((v1 - m1 * m1) * (v2 - m2 * m2));
        k = (k - m1 * m2) / norm; t /= norm;
    }

    private static void ResEndStep(ResEndOp e, ref double k, ref double t, double k0, double t0)
    {
        double g2 = e.Identity * e.Identity;
        k = g2 * k0 + e.Scale2 * k; t = g2 * t0 + e.Scale2 * t;
    }
}
