using System.Numerics;
using System.Numerics.Tensors;
using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Networks;

/// <summary>
/// A finite network built from a <see cref="NetworkSpec"/> (DESIGN.md "one description, several semantics"): dense layers,
/// activations, residual blocks h ↦ h + s·block(h) and LayerNorm (no affine parameters, ε = 1e-5 as PyTorch's), in
/// float64 or float32. All parameters live in one flat vector <see cref="Parameters"/>, split into the named tensors
/// <see cref="Tensors"/>; each dense layer computes z = m_W·h·Wᵀ + m_b·b with the multipliers of the parameterisation
/// (<see cref="ParameterRule"/>). Batches are row-major [batch × features]; forward, backward and the R-operator
/// (Pearlmutter 1994, exact Hessian-vector products) run through GEMM on buffers allocated once per
/// <see cref="Workspace"/>.
/// </summary>
public sealed class Network<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>LayerNorm's ε (added to the per-sample variance).</summary>
    public const double LayerNormEpsilon = 1e-5;

    public NetworkSpec Spec { get; }
    public int InputDim { get; }
    public int OutputDim { get; }
    /// <summary>All parameters, tensor after tensor in the order of <see cref="Tensors"/> (raw stored values, before multipliers).</summary>
    public T[] Parameters { get; }
    public IReadOnlyList<ParameterTensor> Tensors { get; }
    /// <summary>Widths of the buffers between ops: Dims[0] = input, Dims[^1] = output.</summary>
    internal int[] Dims { get; }
    /// <summary>True when the readout is initialised to zero (μP's option).</summary>
    public bool ZeroReadout { get; }

    private readonly Op[] ops;

    public int ParameterCount => Parameters.Length;

    /// <param name="zeroReadout">initialise the readout weights to 0 (μP's recommended option).</param>
    public Network(NetworkSpec spec, int inputDim, bool zeroReadout = false)
    {
        if (inputDim < 1) throw new BadInputException($"Input dimension {inputDim} must be ≥ 1.");
        Spec = spec; InputDim = inputDim; ZeroReadout = zeroReadout;
        var denseLayers = new List<(Dense Layer, int FanIn, bool TopLevel)>();
        var opList = new List<Op>();
        var dims = new List<int> { inputDim };
        Compile(spec.Layers, opList, dims, denseLayers, topLevel: true);
        if (denseLayers.Count == 0) throw new BadInputException($"Architecture '{spec.ToText()}' has no dense layer: nothing to train.");
        if (!denseLayers[^1].TopLevel || spec.Layers[^1] is not Dense)
            throw new BadInputException($"Architecture '{spec.ToText()}' must end with a dense readout layer.");
        ops = [.. opList];
        Dims = [.. dims];
        OutputDim = dims[^1];

        var tensors = new List<ParameterTensor>();
        int offset = 0;
        for (int i = 0; i < denseLayers.Count; i++)
        {
            var (dense, fanIn, _) = denseLayers[i];
            bool readout = i == denseLayers.Count - 1, input = i == 0 && !readout && fanIn == inputDim;
            double sw2 = dense.Sw2 ?? spec.Sw2, sb2 = dense.Sb2 ?? spec.Sb2;
            double width = input ? dense.Width : fanIn;
            var wRole = readout ? ParameterRole.ReadoutWeight : input ? ParameterRole.InputWeight : ParameterRole.HiddenWeight;
            var bRole = readout ? ParameterRole.ReadoutBias : ParameterRole.HiddenBias;
            var wRule = ParameterRule.For(spec.Param, wRole, fanIn, width, sw2, sb2);
            if (readout && zeroReadout) wRule = wRule with { InitStd = 0 };
            var bRule = ParameterRule.For(spec.Param, bRole, fanIn, width, sw2, sb2);
            var w = new ParameterTensor($"layers.{i}.weight", offset, [dense.Width, fanIn], i, wRole, wRule);
            offset = checked(offset + w.Length);
            var b = new ParameterTensor($"layers.{i}.bias", offset, [dense.Width], i, bRole, bRule);
            offset = checked(offset + b.Length);
            tensors.Add(w); tensors.Add(b);
        }
        Tensors = tensors;
        Parameters = new T[offset];
        int d = 0;
        foreach (var op in ops)
            if (op is DenseOp dop) { dop.Bind(tensors[2 * d], tensors[2 * d + 1]); d++; }
    }

    private void Compile(IReadOnlyList<Layer> layers, List<Op> opList, List<int> dims, List<(Dense, int, bool)> dense, bool topLevel)
    {
        foreach (var layer in layers)
        {
            int width = dims[^1];
            switch (layer)
            {
                case Dense d:
                    dense.Add((d, width, topLevel));
                    opList.Add(new DenseOp(width, d.Width));
                    dims.Add(d.Width);
                    break;
                case ActivationLayer a:
                    if (!a.Activation.IsDifferentiable)
                        throw new BadInputException($"Activation '{a.Activation.Name}' has no derivative: a network with it cannot be trained by gradients.");
                    opList.Add(new ActOp(a.Activation));
                    dims.Add(width);
                    break;
                case LayerNorm:
                    if (width < 2) throw new BadInputException("LayerNorm needs at least 2 features.");
                    opList.Add(new NormOp());
                    dims.Add(width);
                    break;
                case Residual r:
                    var begin = new SkipOp();
                    int beginIndex = opList.Count;
                    opList.Add(begin);
                    dims.Add(width);
                    Compile(r.Block, opList, dims, dense, topLevel: false);
                    if (dims[^1] != width)
                        throw new BadInputException($"Residual block '{string.Join("-", r.Block.Select(l => l.ToText()))}' maps width {width} to {dims[^1]}; it must keep the width.");
                    begin.End = opList.Count;
                    begin.Identity = T.CreateTruncating(r.IdentityScale);
                    opList.Add(new AddOp(beginIndex, T.CreateTruncating(r.BranchScale), begin.Identity));
                    dims.Add(width);
                    break;
                default:
                    throw new ArgumentException($"Unsupported layer {layer}.");
            }
        }
    }

    /// <summary>Draws every tensor N(0, InitStd²) from <paramref name="rng"/>, in tensor order (weights then bias per layer), in float64 then rounded.</summary>
    public void Initialize(Rng rng)
    {
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
        Tensors.FirstOrDefault(t => t.Name == name) ?? throw new BadInputException($"The network has no tensor '{name}'. It has: {string.Join(", ", Tensors.Select(t => t.Name))}.");

    /// <summary>Effective weight matrix of dense layer <paramref name="dense"/> (multiplier applied), [fan_out × fan_in], float64.</summary>
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
    public sealed class Workspace
    {
        public int Batch { get; }
        internal readonly T[][] A, G;
        internal T[][]? RA, RG;
        internal T[] Scratch = [];
        /// <summary>A row of ones (batch long) for bias gradients as GEMMs.</summary>
        internal readonly T[] Ones;
        internal readonly T[][] RowStats;
        private readonly Network<T> net;

        internal Workspace(Network<T> net, int batch)
        {
            if (batch < 1) throw new BadInputException($"Batch size {batch} must be ≥ 1.");
            this.net = net; Batch = batch;
            int n = net.ops.Length;
            A = new T[n + 1][]; G = new T[n + 1][];
            for (int k = 0; k <= n; k++)
            {
                // A skip op passes its input through: its output buffer is its input buffer.
                A[k] = k > 0 && net.ops[k - 1] is SkipOp ? A[k - 1] : new T[checked(batch * net.Dims[k])];
                G[k] = new T[checked(batch * net.Dims[k])];
            }
            RowStats = net.ops.Select(o => o is NormOp ? new T[2 * batch] : []).ToArray();
            Ones = new T[batch];
            Array.Fill(Ones, T.One);
        }

        internal void EnsureR()
        {
            if (RA is not null) return;
            int n = net.ops.Length;
            RA = new T[n + 1][]; RG = new T[n + 1][];
            for (int k = 0; k <= n; k++)
            {
                RA[k] = k > 0 && net.ops[k - 1] is SkipOp ? RA[k - 1] : new T[A[k].Length];
                RG[k] = new T[G[k].Length];
            }
            Scratch = new T[G.Max(g => g.Length)];
        }

        /// <summary>The output of op <paramref name="k"/> − 1 (k = 0: the input), batch × width, as last computed.</summary>
        public ReadOnlySpan<T> Activations(int k) => A[k];
        /// <summary>The network output of the last forward pass, batch × OutputDim.</summary>
        public ReadOnlySpan<T> Output => A[^1];
        /// <summary>∂loss/∂(output of op k − 1) from the last backward pass.</summary>
        public ReadOnlySpan<T> Gradients(int k) => G[k];
    }

    /// <summary>Forward pass of a batch x (batch × InputDim, row-major); returns the output (batch × OutputDim) held in the workspace.</summary>
    public ReadOnlySpan<T> Forward(ReadOnlySpan<T> x, Workspace ws)
    {
        if (x.Length != ws.Batch * InputDim)
            throw new BadInputException($"Input batch has {x.Length} values; the workspace expects {ws.Batch} rows × {InputDim} features.");
        x.CopyTo(ws.A[0]);
        for (int k = 0; k < ops.Length; k++) ops[k].Forward(this, ws, k);
        return ws.A[^1];
    }

    /// <summary>
    /// Backward pass after <see cref="Forward"/>: with <paramref name="dOut"/> = ∂loss/∂output (batch × OutputDim), writes
    /// ∂loss/∂(stored parameters) into <paramref name="grad"/> (length <see cref="ParameterCount"/>, overwritten; pass an
    /// empty span to skip the parameter gradients when only the per-op gradients are needed, as the R-operator does).
    /// Every op's output gradient is then in <see cref="Workspace.Gradients"/>, the input's too when
    /// <paramref name="inputGradient"/> is set. Rows are independent, so row i holds sample i's gradients.
    /// </summary>
    public void Backward(Workspace ws, ReadOnlySpan<T> dOut, Span<T> grad, bool inputGradient = false)
    {
        if (!grad.IsEmpty && grad.Length != Parameters.Length) throw new ArgumentException($"Gradient buffer has {grad.Length} entries, the network {Parameters.Length}.");
        dOut.CopyTo(ws.G[^1]);
        for (int k = ops.Length - 1; k >= 0; k--) ops[k].Backward(this, ws, k, grad, needInput: k > 0 || inputGradient);
    }

    /// <summary>The buffer index of dense layer <paramref name="dense"/>'s input (its output is the next index).</summary>
    public int DenseInputIndex(int dense)
    {
        int d = 0;
        for (int k = 0; k < ops.Length; k++)
            if (ops[k] is DenseOp && d++ == dense) return k;
        throw new ArgumentOutOfRangeException(nameof(dense), $"The network has {DenseCount} dense layers.");
    }

    /// <summary>R-operator forward pass: R{output} = directional derivative of the output along parameter direction <paramref name="v"/>.</summary>
    public ReadOnlySpan<T> RForward(Workspace ws, ReadOnlySpan<T> v)
    {
        ws.EnsureR();
        Array.Clear(ws.RA![0]);
        for (int k = 0; k < ops.Length; k++) ops[k].RForward(this, ws, k, v);
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
        for (int k = ops.Length - 1; k >= 0; k--) ops[k].RBackward(this, ws, k, v, hv, needInput: k > 0);
    }

    // ---- operations: input buffer k, output buffer k + 1 ----

    private abstract class Op
    {
        public abstract void Forward(Network<T> net, Workspace ws, int k);
        public abstract void Backward(Network<T> net, Workspace ws, int k, Span<T> grad, bool needInput);
        public abstract void RForward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v);
        public abstract void RBackward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput);
    }

    /// <summary>z = m_W·h·Wᵀ + m_b·b.</summary>
    private sealed class DenseOp(int fanIn, int fanOut) : Op
    {
        private int wOff, bOff;
        private T mw, mb;

        public void Bind(ParameterTensor w, ParameterTensor b)
        {
            wOff = w.Offset; bOff = b.Offset;
            mw = T.CreateTruncating(w.Rule.Multiplier); mb = T.CreateTruncating(b.Rule.Multiplier);
        }

        private void AddBias(Span<T> z, ReadOnlySpan<T> b, int batch)
        {
            if (mb == T.One) for (int r = 0; r < batch; r++) b.CopyTo(z.Slice(r * fanOut, fanOut));
            else for (int r = 0; r < batch; r++) TensorPrimitives.Multiply(b, mb, z.Slice(r * fanOut, fanOut));
        }

        /// <summary>gb = m_b·Σ_rows g, as the GEMM 1ᵀ·G (one BLAS call instead of a loop over rows).</summary>
        private void BiasGradient(ReadOnlySpan<T> g, Span<T> gb, Workspace ws) =>
            Blas.Gemm(Transpose.No, Transpose.No, 1, fanOut, ws.Batch, mb, ws.Ones, ws.Batch, g, fanOut, T.Zero, gb, fanOut);

        public override void Forward(Network<T> net, Workspace ws, int k)
        {
            var p = net.Parameters.AsSpan();
            AddBias(ws.A[k + 1], p.Slice(bOff, fanOut), ws.Batch);
            Blas.Gemm(Transpose.No, Transpose.Yes, ws.Batch, fanOut, fanIn, mw, ws.A[k], fanIn, p.Slice(wOff, fanIn * fanOut), fanIn, T.One, ws.A[k + 1], fanOut);
        }

        public override void Backward(Network<T> net, Workspace ws, int k, Span<T> grad, bool needInput)
        {
            var w = net.Parameters.AsSpan(wOff, fanIn * fanOut);
            if (!grad.IsEmpty)
            {
                Blas.Gemm(Transpose.Yes, Transpose.No, fanOut, fanIn, ws.Batch, mw, ws.G[k + 1], fanOut, ws.A[k], fanIn, T.Zero, grad.Slice(wOff, fanIn * fanOut), fanIn);
                BiasGradient(ws.G[k + 1], grad.Slice(bOff, fanOut), ws);
            }
            if (needInput) Blas.Gemm(Transpose.No, Transpose.No, ws.Batch, fanIn, fanOut, mw, ws.G[k + 1], fanOut, w, fanIn, T.Zero, ws.G[k], fanIn);
        }

        public override void RForward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v)
        {
            var w = net.Parameters.AsSpan(wOff, fanIn * fanOut);
            AddBias(ws.RA![k + 1], v.Slice(bOff, fanOut), ws.Batch);
            Blas.Gemm(Transpose.No, Transpose.Yes, ws.Batch, fanOut, fanIn, mw, ws.RA[k], fanIn, w, fanIn, T.One, ws.RA[k + 1], fanOut);
            Blas.Gemm(Transpose.No, Transpose.Yes, ws.Batch, fanOut, fanIn, mw, ws.A[k], fanIn, v.Slice(wOff, fanIn * fanOut), fanIn, T.One, ws.RA[k + 1], fanOut);
        }

        public override void RBackward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput)
        {
            var w = net.Parameters.AsSpan(wOff, fanIn * fanOut);
            var hw = hv.Slice(wOff, fanIn * fanOut);
            Blas.Gemm(Transpose.Yes, Transpose.No, fanOut, fanIn, ws.Batch, mw, ws.RG![k + 1], fanOut, ws.A[k], fanIn, T.Zero, hw, fanIn);
            Blas.Gemm(Transpose.Yes, Transpose.No, fanOut, fanIn, ws.Batch, mw, ws.G[k + 1], fanOut, ws.RA![k], fanIn, T.One, hw, fanIn);
            BiasGradient(ws.RG[k + 1], hv.Slice(bOff, fanOut), ws);
            if (!needInput) return;
            Blas.Gemm(Transpose.No, Transpose.No, ws.Batch, fanIn, fanOut, mw, ws.RG[k + 1], fanOut, w, fanIn, T.Zero, ws.RG[k], fanIn);
            Blas.Gemm(Transpose.No, Transpose.No, ws.Batch, fanIn, fanOut, mw, ws.G[k + 1], fanOut, v.Slice(wOff, fanIn * fanOut), fanIn, T.One, ws.RG[k], fanIn);
        }
    }

    /// <summary>a = φ(z) elementwise.</summary>
    private sealed class ActOp(Activation phi) : Op
    {
        public override void Forward(Network<T> net, Workspace ws, int k) => Pointwise<T>.Apply(phi, ws.A[k], ws.A[k + 1]);

        public override void Backward(Network<T> net, Workspace ws, int k, Span<T> grad, bool needInput)
        {
            if (needInput) Pointwise<T>.MultiplyDerivative(phi, ws.A[k], ws.A[k + 1], ws.G[k + 1], ws.G[k]);
        }

        public override void RForward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v) =>
            Pointwise<T>.MultiplyDerivative(phi, ws.A[k], ws.A[k + 1], ws.RA![k], ws.RA[k + 1]);

        public override void RBackward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput)
        {
            if (!needInput) return;
            // R{g ⊙ φ′(z)} = R{g} ⊙ φ′(z) + g ⊙ φ″(z) ⊙ R{z}
            var h = ws.Scratch.AsSpan(0, ws.G[k].Length);
            TensorPrimitives.Multiply(ws.G[k + 1], ws.RA![k], h);
            Pointwise<T>.MultiplyDerivatives(phi, ws.A[k], ws.A[k + 1], ws.RG![k + 1], h, ws.RG[k]);
        }
    }

    /// <summary>y = (x − mean x)/√(var x + ε) per sample (row).</summary>
    private sealed class NormOp : Op
    {
        private static readonly T Eps = T.CreateTruncating(LayerNormEpsilon);

        public override void Forward(Network<T> net, Workspace ws, int k)
        {
            int n = net.Dims[k];
            T invN = T.One / T.CreateTruncating(n);
            var stats = ws.RowStats[k];
            for (int r = 0; r < ws.Batch; r++)
            {
                var x = ws.A[k].AsSpan(r * n, n);
                var y = ws.A[k + 1].AsSpan(r * n, n);
                T mean = TensorPrimitives.Sum<T>(x) * invN;
                TensorPrimitives.Subtract(x, mean, y);
                T s = T.Sqrt(TensorPrimitives.SumOfSquares<T>(y) * invN + Eps);
                TensorPrimitives.Multiply(y, T.One / s, y);
                stats[r] = s;
            }
        }

        /// <summary>gx = (gy − mean gy − y·mean(gy ⊙ y))/s.</summary>
        public override void Backward(Network<T> net, Workspace ws, int k, Span<T> grad, bool needInput)
        {
            if (!needInput) return;
            int n = net.Dims[k];
            T invN = T.One / T.CreateTruncating(n);
            for (int r = 0; r < ws.Batch; r++)
            {
                var y = ws.A[k + 1].AsSpan(r * n, n);
                var gy = ws.G[k + 1].AsSpan(r * n, n);
                var gx = ws.G[k].AsSpan(r * n, n);
                T s = ws.RowStats[k][r];
                T m1 = TensorPrimitives.Sum<T>(gy) * invN, m2 = TensorPrimitives.Dot<T>(gy, y) * invN;
                for (int i = 0; i < n; i++) gx[i] = (gy[i] - m1 - y[i] * m2) / s;
            }
        }

        /// <summary>R{s} = mean(y ⊙ Rx); Ry = (Rx − mean Rx)/s − y·R{s}/s.</summary>
        public override void RForward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v)
        {
            int n = net.Dims[k];
            T invN = T.One / T.CreateTruncating(n);
            for (int r = 0; r < ws.Batch; r++)
            {
                var y = ws.A[k + 1].AsSpan(r * n, n);
                var rx = ws.RA![k].AsSpan(r * n, n);
                var ry = ws.RA[k + 1].AsSpan(r * n, n);
                T s = ws.RowStats[k][r];
                T rs = TensorPrimitives.Dot<T>(y, rx) * invN, mrx = TensorPrimitives.Sum<T>(rx) * invN;
                ws.RowStats[k][ws.Batch + r] = rs;
                for (int i = 0; i < n; i++) ry[i] = (rx[i] - mrx - y[i] * rs) / s;
            }
        }

        /// <summary>R{gx} = −(R{s}/s)·gx + (R{gy} − mean R{gy} − Ry·m₂ − y·R{m₂})/s with m₂ = mean(gy ⊙ y).</summary>
        public override void RBackward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput)
        {
            if (!needInput) return;
            int n = net.Dims[k];
            T invN = T.One / T.CreateTruncating(n);
            for (int r = 0; r < ws.Batch; r++)
            {
                var y = ws.A[k + 1].AsSpan(r * n, n);
                var ry = ws.RA![k + 1].AsSpan(r * n, n);
                var gy = ws.G[k + 1].AsSpan(r * n, n);
                var rgy = ws.RG![k + 1].AsSpan(r * n, n);
                var gx = ws.G[k].AsSpan(r * n, n);
                var rgx = ws.RG[k].AsSpan(r * n, n);
                T s = ws.RowStats[k][r], rs = ws.RowStats[k][ws.Batch + r];
                T m2 = TensorPrimitives.Dot<T>(gy, y) * invN;
                T rm1 = TensorPrimitives.Sum<T>(rgy) * invN;
                T rm2 = (TensorPrimitives.Dot<T>(rgy, y) + TensorPrimitives.Dot<T>(gy, ry)) * invN;
                for (int i = 0; i < n; i++) rgx[i] = (-rs * gx[i] + rgy[i] - rm1 - ry[i] * m2 - y[i] * rm2) / s;
            }
        }
    }

    /// <summary>Start of a residual block: passes h on (the same buffer) and receives the skip path's gradient at the end.</summary>
    private sealed class SkipOp : Op
    {
        /// <summary>Index of the matching <see cref="AddOp"/>.</summary>
        public int End;
        /// <summary>The identity scale γ of the skip path.</summary>
        public T Identity = T.One;
        public override void Forward(Network<T> net, Workspace ws, int k) { }
        public override void Backward(Network<T> net, Workspace ws, int k, Span<T> grad, bool needInput) =>
            TensorPrimitives.MultiplyAdd(ws.G[End + 1], Identity, ws.G[k + 1], ws.G[k]);
        public override void RForward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v) { }
        public override void RBackward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput) =>
            TensorPrimitives.MultiplyAdd(ws.RG![End + 1], Identity, ws.RG[k + 1], ws.RG[k]);
    }

    /// <summary>End of a residual block: out = γ·h + s·block(h), h the input of the matching <see cref="SkipOp"/>.</summary>
    private sealed class AddOp(int begin, T scale, T identity) : Op
    {
        public override void Forward(Network<T> net, Workspace ws, int k)
        {
            var skip = ws.A[begin];
            var output = ws.A[k + 1];
            TensorPrimitives.Multiply(skip, identity, output);
            TensorPrimitives.MultiplyAdd(ws.A[k], scale, output, output);
        }
        public override void Backward(Network<T> net, Workspace ws, int k, Span<T> grad, bool needInput) =>
            TensorPrimitives.Multiply(ws.G[k + 1], scale, ws.G[k]);
        public override void RForward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v)
        {
            TensorPrimitives.Multiply(ws.RA![begin], identity, ws.RA[k + 1]);
            TensorPrimitives.MultiplyAdd(ws.RA[k], scale, ws.RA[k + 1], ws.RA[k + 1]);
        }
        public override void RBackward(Network<T> net, Workspace ws, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput) =>
            TensorPrimitives.Multiply(ws.RG![k + 1], scale, ws.RG[k]);
    }
}
