using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Networks;

/// <summary>
/// A fully connected network described by an <see cref="MlpSpec"/>: a view over the <see cref="Network{T}"/> built from
/// <see cref="MlpSpec.ToNetworkSpec"/> (NTK parameterisation, z^{ℓ+1} = (σ_w/√fan_in)·W^ℓ·φ(z^ℓ) + σ_b·b^ℓ with stored
/// weights and biases N(0, 1), Roberts &amp; Yaida 2022, eq. 2.19) that names its buffers layer by layer, for the
/// ensembles: preactivations <see cref="Workspace.Pre"/> and activations <see cref="Workspace.Post"/> as matrices.
/// </summary>
public sealed class Mlp
{
    public MlpSpec Spec { get; }
    /// <summary>The network this view reads.</summary>
    public Network<double> Network { get; }

    public Mlp(MlpSpec spec) : this(spec.Validated(), new Network<double>(spec.ToNetworkSpec(), spec.InputDim))
    {
    }

    private Mlp(MlpSpec spec, Network<double> network)
    {
        Spec = spec;
        Network = network;
    }

    /// <summary>
    /// A network with another activation (or σ's) that shares this one's parameters (no copy): used to put several
    /// activations through the same weight draw. The layer shapes must match.
    /// </summary>
    public Mlp SharingParameters(MlpSpec spec)
    {
        spec.Validated();
        if (spec.InputDim != Spec.InputDim || spec.Width != Spec.Width || spec.Depth != Spec.Depth || spec.OutputDim != Spec.OutputDim)
            throw new ArgumentException("Parameter sharing needs identical layer shapes.");
        return new Mlp(spec, Network.SharingParameters(spec.ToNetworkSpec()));
    }

    /// <summary>Draws all parameters iid N(0, 1) from <paramref name="rng"/> (layer by layer, weights then bias).</summary>
    public void Initialize(Rng rng) => Network.Initialize(rng);

    /// <summary>Stored weights of layer l, row-major [fan_out × fan_in] (PyTorch nn.Linear layout), a view.</summary>
    public Span<double> Weights(int layer) => View(Network.Tensors[2 * layer]);

    /// <summary>Stored biases of layer l, length fan_out, a view.</summary>
    public Span<double> Biases(int layer) => View(Network.Tensors[2 * layer + 1]);

    private Span<double> View(ParameterTensor t) => Network.Parameters.AsSpan(t.Offset, t.Length);

    /// <summary>The network's buffers for a fixed batch size, named layer by layer.</summary>
    public sealed class Workspace
    {
        internal Network<double>.Workspace Buffers { get; }
        /// <summary>Preactivations z^{ℓ+1} per layer, batch × fan_out (the last one is the output).</summary>
        public Matrix[] Pre { get; }
        /// <summary>Post-activations φ(z) of the hidden layers, batch × width.</summary>
        public Matrix[] Post { get; }
        public int Batch { get; }

        internal Workspace(Mlp mlp, int batch)
        {
            var spec = mlp.Spec;
            Batch = batch;
            Buffers = mlp.Network.CreateWorkspace(batch);
            // Ops alternate Dense, φ: buffer 2ℓ + 1 holds z^{ℓ+1}, buffer 2ℓ + 2 holds φ(z^{ℓ+1}).
            Pre = Enumerable.Range(0, spec.Depth + 1).Select(l => new Matrix(batch, spec.FanOut(l), Buffers.A[2 * l + 1])).ToArray();
            Post = Enumerable.Range(0, spec.Depth).Select(l => new Matrix(batch, spec.Width, Buffers.A[2 * l + 2])).ToArray();
        }
    }

    public Workspace CreateWorkspace(int batch) => new(this, batch);

    /// <summary>Forward pass of inputs X (batch × d); returns the output preactivations (batch × OutputDim), held in the
    /// workspace.</summary>
    public Matrix Forward(Matrix x, Workspace ws)
    {
        if (x.Cols != Spec.InputDim) throw new BadInputException($"Inputs have {x.Cols} features but the network expects {Spec.InputDim}.");
        if (x.Rows != ws.Batch) throw new ArgumentException($"Workspace is for batch {ws.Batch}, inputs have {x.Rows} rows.");
        Network.Forward(x.Data, ws.Buffers);
        return ws.Pre[Spec.Depth];
    }
}
