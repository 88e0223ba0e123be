using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Networks;

/// <summary>
/// A finite fully connected network built from an <see cref="MlpSpec"/>, NTK parameterisation: stored weights
/// and biases are N(0, 1) and the forward pass is z^{ℓ+1} = (σ_w/√fan_in)·W^ℓ·φ(z^ℓ) + σ_b·b^ℓ
/// (seed 004 eq. 2.19), with z¹ = (σ_w/√d)·W⁰·x + σ_b·b⁰. Forward passes go through GEMM on a batch of inputs.
/// </summary>
public sealed class Mlp
{
    /// <summary>Weights per layer, row-major [fan_out × fan_in] (PyTorch nn.Linear layout).</summary>
    public double[][] Weights { get; }
    /// <summary>Biases per layer, length fan_out.</summary>
    public double[][] Biases { get; }
    public MlpSpec Spec { get; }

    public Mlp(MlpSpec spec)
    {
        Spec = spec.Validated();
        Weights = new double[spec.Depth + 1][];
        Biases = new double[spec.Depth + 1][];
        for (int l = 0; l <= spec.Depth; l++)
        {
            Weights[l] = new double[checked(spec.FanOut(l) * spec.FanIn(l))];
            Biases[l] = new double[spec.FanOut(l)];
        }
    }

    private Mlp(MlpSpec spec, double[][] w, double[][] b) { Spec = spec; Weights = w; Biases = b; }

    /// <summary>
    /// A network with another activation (or σ's) that shares this one's parameter arrays (no copy): used to
    /// put several activations through the same weight draw. The layer shapes must match.
    /// </summary>
    public Mlp SharingParameters(MlpSpec spec)
    {
        spec.Validated();
        if (spec.InputDim != Spec.InputDim || spec.Width != Spec.Width || spec.Depth != Spec.Depth || spec.OutputDim != Spec.OutputDim)
            throw new ArgumentException("Parameter sharing needs identical layer shapes.");
        return new Mlp(spec, Weights, Biases);
    }

    /// <summary>Draws all parameters iid N(0, 1) from <paramref name="rng"/> (layer by layer, weights then bias).</summary>
    public void Initialize(Rng rng)
    {
        for (int l = 0; l <= Spec.Depth; l++) { rng.FillGaussian(Weights[l]); rng.FillGaussian(Biases[l]); }
    }

    /// <summary>Preallocated buffers for a forward pass of a fixed batch size.</summary>
    public sealed class Workspace
    {
        /// <summary>Preactivations z^{ℓ+1} per layer, batch × fan_out (the last one is the output).</summary>
        public Matrix[] Pre { get; }
        /// <summary>Post-activations φ(z) of the hidden layers, batch × width.</summary>
        public Matrix[] Post { get; }
        public int Batch { get; }

        public Workspace(MlpSpec spec, int batch)
        {
            Batch = batch;
            Pre = new Matrix[spec.Depth + 1];
            Post = new Matrix[spec.Depth];
            for (int l = 0; l <= spec.Depth; l++) Pre[l] = new Matrix(batch, spec.FanOut(l));
            for (int l = 0; l < spec.Depth; l++) Post[l] = new Matrix(batch, spec.Width);
        }
    }

    public Workspace CreateWorkspace(int batch) => new(Spec, batch);

    /// <summary>Forward pass of inputs X (batch × d); returns the output preactivations (batch × OutputDim), held in the workspace.</summary>
    public Matrix Forward(Matrix x, Workspace ws)
    {
        if (x.Cols != Spec.InputDim) throw new BadInputException($"Inputs have {x.Cols} features but the network expects {Spec.InputDim}.");
        if (x.Rows != ws.Batch) throw new ArgumentException($"Workspace is for batch {ws.Batch}, inputs have {x.Rows} rows.");
        double sw = Math.Sqrt(Spec.Sw2), sb = Math.Sqrt(Spec.Sb2);
        Matrix input = x;
        for (int l = 0; l <= Spec.Depth; l++)
        {
            int fanIn = Spec.FanIn(l), fanOut = Spec.FanOut(l);
            var z = ws.Pre[l];
            for (int r = 0; r < x.Rows; r++)
            {
                var row = z.Row(r);
                for (int j = 0; j < fanOut; j++) row[j] = sb * Biases[l][j];
            }
            Blas.Gemm(Transpose.No, Transpose.Yes, x.Rows, fanOut, fanIn, sw / Math.Sqrt(fanIn), input.Data, fanIn,
                Weights[l], fanIn, 1.0, z.Data, fanOut);
            if (l == Spec.Depth) break;
            Spec.Activation.Apply(z.Data, ws.Post[l].Data);
            input = ws.Post[l];
        }
        return ws.Pre[Spec.Depth];
    }
}
