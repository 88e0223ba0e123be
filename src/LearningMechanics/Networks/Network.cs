using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Networks;

/// <summary>
/// A finite network built from a <see cref="NetworkSpec"/> (one description, several semantics; README, "Architecture"), in float64
/// or float32: each layer of the description adds its own operations (forward, backward, R-operator; see the layer
/// types in Architecture), and this class lays out the parameters and runs the passes. All parameters live in one flat
/// vector <see cref="Parameters"/>, split into the named tensors <see cref="Tensors"/>; each dense layer computes
/// z = m_W·h·Wᵀ + m_b·b with the multipliers of the parameterisation (<see cref="ParameterRule"/>). Batches are row-major
/// [batch × features]; forward, backward and the R-operator (Pearlmutter 1994, exact Hessian-vector products) run
/// through GEMM on buffers allocated once per <see cref="Workspace"/>.
/// </summary>
public sealed class Network<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public NetworkSpec Spec { get; }
    public int InputDim { get; }
    public int OutputDim { get; }
    /// <summary>All parameters, tensor after tensor in the order of <see cref="Tensors"/> (raw stored values, before
    /// multipliers).</summary>
    public T[] Parameters { get; }
    public IReadOnlyList<ParameterTensor> Tensors { get; }
    /// <summary>Widths of the buffers between ops: Dims[0] = input, Dims[^1] = output.</summary>
    internal int[] Dims { get; }
    /// <summary>True when the readout is initialised to zero (μP's option).</summary>
    public bool ZeroReadout { get; }

    private readonly FiniteOp<T>[] ops;

    public int ParameterCount => Parameters.Length;

    /// <param name="zeroReadout">initialise the readout weights to 0 (μP's recommended option).</param>
    public Network(NetworkSpec spec, int inputDim, bool zeroReadout = false) : this(spec, inputDim, zeroReadout, null)
    {
    }

    /// <param name="sharedParameters">the parameter vector of a network with the same tensor layout, used without a copy.</param>
    private Network(NetworkSpec spec, int inputDim, bool zeroReadout, T[]? sharedParameters)
    {
        if (inputDim < 1) throw new BadInputException($"Input dimension {inputDim} must be ≥ 1.");
        Spec = spec;
        InputDim = inputDim;
        ZeroReadout = zeroReadout;
        var builder = new FiniteBuilder<T>(inputDim);
        builder.AddLayers(spec.Layers);
        var denseLayers = builder.DenseLayers;
        if (denseLayers.Count == 0) throw new BadInputException($"Architecture '{spec.ToText()}' has no dense layer: nothing to train.");
        if (!denseLayers[^1].TopLevel || spec.Layers[^1] is not Dense)
            throw new BadInputException($"Architecture '{spec.ToText()}' must end with a dense readout layer.");
        ops = [.. builder.Ops];
        Dims = [.. builder.Dims];
        NonDifferentiable = builder.NonDifferentiable;
        OutputDim = Dims[^1];
        Tensors = LayOut(spec, inputDim, zeroReadout, denseLayers, out int count);
        if (sharedParameters is not null && sharedParameters.Length != count)
            throw new ArgumentException(
                $"Parameter sharing needs identical tensor layouts ({sharedParameters.Length} vs {count} parameters).");
        Parameters = sharedParameters ?? new T[count];
        int d = 0;
        foreach (var op in ops)
        {
            if (op is not Dense.Op<T> dense) continue;
            ParameterTensor w = Tensors[2 * d];
            ParameterTensor b = Tensors[2 * d + 1];
            dense.Bind(w.Offset, w.Rule.Multiplier, b.Offset, b.Rule.Multiplier);
            d++;
        }
    }

    /// <summary>The first activation without a derivative (step, sign), if any: such a network is evaluated (ensembles of
    /// the NNGP limit) but not differentiated.</summary>
    public string? NonDifferentiable { get; }

    /// <summary>Throws <see cref="BadInputException"/> when an activation has no derivative.</summary>
    public void RequireDifferentiable()
    {
        if (NonDifferentiable is { } name)
            throw new BadInputException($"Activation '{name}' has no derivative: a network with it cannot be trained by gradients.");
    }

    /// <summary>
    /// A network of another description with the same tensor layout (e.g. another activation or σ's) that shares this one's
    /// parameter vector, without a copy: several activations through one weight draw.
    /// </summary>
    public Network<T> SharingParameters(NetworkSpec spec) => new(spec, InputDim, ZeroReadout, Parameters);

    /// <summary>The most parameters a network may have: 4 GB in float64.</summary>
    public const long MaxParameters = 500_000_000;

    /// <summary>The named tensors <c>layers.{i}.weight</c>, <c>layers.{i}.bias</c> of the dense layers, with their rules.</summary>
    private static List<ParameterTensor> LayOut(NetworkSpec spec, int inputDim, bool zeroReadout,
        List<(Dense Layer, int FanIn, bool TopLevel)> denseLayers, out int count)
    {
        var tensors = new List<ParameterTensor>();
        int offset = 0;
        for (int i = 0; i < denseLayers.Count; i++)
        {
            var (dense, fanIn, _) = denseLayers[i];
            bool readout = i == denseLayers.Count - 1;
            bool input = i == 0 && !readout && fanIn == inputDim;
            double sw2 = dense.Sw2 ?? spec.Sw2;
            double sb2 = dense.Sb2 ?? spec.Sb2;
            double width = input ? dense.Width : fanIn;
            var wRole = readout ? ParameterRole.ReadoutWeight : input ? ParameterRole.InputWeight : ParameterRole.HiddenWeight;
            var bRole = readout ? ParameterRole.ReadoutBias : ParameterRole.HiddenBias;
            var wRule = ParameterRule.For(spec.Param, wRole, fanIn, width, sw2, sb2, spec.BaseWidth).WithRichness(wRole, spec.Gamma0);
            if (readout && zeroReadout) wRule = wRule with { InitStd = 0 };
            var bRule = ParameterRule.For(spec.Param, bRole, fanIn, width, sw2, sb2, spec.BaseWidth).WithRichness(bRole, spec.Gamma0);
            long total = (long)offset + (long)dense.Width * fanIn + dense.Width;
            if (total > MaxParameters)
                throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
                    $"Architecture '{spec.ToText()}' on {inputDim} inputs has more than {MaxParameters:N0} parameters (≥ {total:N0} ") +
                    string.Create(CultureInfo.InvariantCulture, $"by layer {i}, {total * 8 / 1e9:F1} GB in float64 before any ") +
                    "workspace); the limit keeps a run from exhausting memory.");
            var w = new ParameterTensor($"layers.{i}.weight", offset, [dense.Width, fanIn], i, wRole, wRule);
            offset = checked(offset + w.Length);
            var b = new ParameterTensor($"layers.{i}.bias", offset, [dense.Width], i, bRole, bRule);
            offset = checked(offset + b.Length);
            tensors.Add(w);
            tensors.Add(b);
        }
        count = offset;
        return tensors;
    }

    /// <summary>
    /// Draws every tensor N(0, InitStd²) from <paramref name="rng"/>, in tensor order (weights then bias per layer), in
    /// float64 then rounded.
    /// </summary>
    public void Initialize(Rng rng)
    {
        if (typeof(T) == typeof(double))
        {
            // Straight into the parameter vector; scaling by an InitStd of 1 would change nothing.
            var all = MemoryMarshal.Cast<T, double>(Parameters.AsSpan());
            foreach (var t in Tensors)
            {
                var span = all.Slice(t.Offset, t.Length);
                rng.FillGaussian(span);
                if (t.Rule.InitStd != 1) for (int i = 0; i < span.Length; i++) span[i] *= t.Rule.InitStd;
            }
            return;
        }
        double[] buffer = [];
        foreach (var t in Tensors)
        {
            if (buffer.Length < t.Length) buffer = new double[t.Length];
            var span = buffer.AsSpan(0, t.Length);
            rng.FillGaussian(span);
            var dst = Parameters.AsSpan(t.Offset, t.Length);
            for (int i = 0; i < span.Length; i++) dst[i] = T.CreateTruncating(span[i] * t.Rule.InitStd);
        }
    }

    public ParameterTensor Tensor(string name) =>
        Tensors.FirstOrDefault(t => t.Name == name)
        ?? throw new BadInputException($"The network has no tensor '{name}'. It has: {string.Join(", ", Tensors.Select(t => t.Name))}.");

    /// <summary>Effective weight matrix of dense layer <paramref name="dense"/> (multiplier applied), [fan_out × fan_in],
    /// float64.</summary>
    public Matrix EffectiveWeight(int dense)
    {
        var t = Tensors[2 * dense];
        var m = new Matrix(t.Shape[0], t.Shape[1]);
        var src = Parameters.AsSpan(t.Offset, t.Length);
        for (int i = 0; i < src.Length; i++) m.Data[i] = t.Rule.Multiplier * double.CreateTruncating(src[i]);
        return m;
    }

    /// <summary>Number of dense layers.</summary>
    public int DenseCount => Tensors.Count / 2;

    public Workspace CreateWorkspace(int batch) => new(this, batch);

    /// <summary>Buffers for one batch size: every op's output, its gradient, and (allocated on first use) the R-operator's.</summary>
    public sealed class Workspace : LayerBuffers<T>
    {
        internal Workspace(Network<T> net, int batch) : base(net.ops, net.Dims, net.Parameters, batch)
        {
        }
    }

    /// <summary>Forward pass of a batch x (batch × InputDim, row-major); returns the output (batch × OutputDim) held in the
    /// workspace.</summary>
    public ReadOnlySpan<T> Forward(ReadOnlySpan<T> x, Workspace ws)
    {
        if (x.Length != ws.Batch * InputDim)
            throw new BadInputException($"Input batch has {x.Length} values; the workspace expects {ws.Batch} rows × {InputDim} " +
                $"features.");
        x.CopyTo(ws.A[0]);
        for (int k = 0; k < ops.Length; k++) ops[k].Forward(ws, k);
        return ws.A[^1];
    }

    /// <summary>
    /// Backward pass after <see cref="Forward"/>: with <paramref name="dOut"/> = ∂loss/∂output (batch × OutputDim), writes
    /// ∂loss/∂(stored parameters) into <paramref name="grad"/> (length <see cref="ParameterCount"/>, overwritten; pass an
    /// empty span to skip the parameter gradients when only the per-op gradients are needed, as the R-operator does).
    /// Every op's output gradient is then in <see cref="LayerBuffers{T}.Gradients"/>, the input's too when
    /// <paramref name="inputGradient"/> is set. Rows are independent, so row i holds sample i's gradients.
    /// </summary>
    public void Backward(Workspace ws, ReadOnlySpan<T> dOut, Span<T> grad, bool inputGradient = false)
    {
        RequireDifferentiable();
        if (!grad.IsEmpty && grad.Length != Parameters.Length)
            throw new ArgumentException($"Gradient buffer has {grad.Length} entries, the network {Parameters.Length}.");
        dOut.CopyTo(ws.G[^1]);
        for (int k = ops.Length - 1; k >= 0; k--) ops[k].Backward(ws, k, grad, needInput: k > 0 || inputGradient);
    }

    /// <summary>The buffer index of dense layer <paramref name="dense"/>'s input (its output is the next index).</summary>
    public int DenseInputIndex(int dense)
    {
        int d = 0;
        for (int k = 0; k < ops.Length; k++)
            if (ops[k] is Dense.Op<T> && d++ == dense) return k;
        throw new ArgumentOutOfRangeException(nameof(dense), $"The network has {DenseCount} dense layers.");
    }

    /// <summary>R-operator forward pass: R{output} = directional derivative of the output along parameter direction
    /// <paramref name="v"/>.</summary>
    public ReadOnlySpan<T> RForward(Workspace ws, ReadOnlySpan<T> v)
    {
        ws.EnsureR();
        Array.Clear(ws.RA![0]);
        for (int k = 0; k < ops.Length; k++) ops[k].RForward(ws, k, v);
        return ws.RA[^1];
    }

    /// <summary>
    /// R-operator backward pass after <see cref="Forward"/>, <see cref="Backward"/> and <see cref="RForward"/> with the same
    /// direction: given R{∂loss/∂output} = <paramref name="rdOut"/>, writes H·v (the exact Hessian of the loss in the stored
    /// parameters times v) into <paramref name="hv"/>.
    /// </summary>
    public void RBackward(Workspace ws, ReadOnlySpan<T> v, ReadOnlySpan<T> rdOut, Span<T> hv)
    {
        rdOut.CopyTo(ws.RG![^1]);
        for (int k = ops.Length - 1; k >= 0; k--) ops[k].RBackward(ws, k, v, hv, needInput: k > 0);
    }
}
