using LearningMechanics.Data;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// The Hessian H = ∇²_θ L of a network's training loss over a fixed data set, in the stored parameters, used only through
/// exact Hessian-vector products: Pearlmutter's R-operator (Pearlmutter 1994) runs a forward, backward, R-forward and
/// R-backward pass, about two gradients' cost, and never forms H. On it: sharpness (top eigenvalues by
/// <see cref="Lanczos"/>), Hutchinson's trace estimate tr H = E[vᵀHv] over Rademacher v, and the spectral density by
/// stochastic Lanczos quadrature (edge of stability: Cohen et al. 2021; density: Ghorbani et al. 2019).
/// Data are processed in chunks of at most <see cref="ChunkRows"/> rows, each weighted by its share of the samples.
/// </summary>
public sealed class Hessian
{
    public const int ChunkRows = 2048;

    private readonly Network<double> net;
    private readonly Loss loss;
    private readonly List<(double[] X, double[] Y, int Rows, Network<double>.Workspace Ws, double[] DOut, double[] Rd)> chunks = [];
    private readonly double[] scratch;
    private readonly int count;

    public int Dimension => net.ParameterCount;

    public Hessian(Network<double> net, Dataset data, Loss loss)
    {
        data.Validated();
        if (data.InputDim != net.InputDim || data.OutputDim != net.OutputDim)
            throw new BadInputException(
                $"Data ({data.InputDim} → {data.OutputDim}) does not match the network ({net.InputDim} → {net.OutputDim}).");
        this.net = net; this.loss = loss; count = data.Count;
        for (int start = 0; start < data.Count; start += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, data.Count - start);
            var x = data.X.Data.AsSpan(start * data.InputDim, rows * data.InputDim).ToArray();
            var y = data.Y.Data.AsSpan(start * data.OutputDim, rows * data.OutputDim).ToArray();
            chunks.Add((x, y, rows, net.CreateWorkspace(rows), new double[rows * net.OutputDim], new double[rows * net.OutputDim]));
        }
        scratch = new double[net.ParameterCount];
    }

    /// <summary>The loss at the current parameters, with its gradient written into <paramref name="grad"/>.</summary>
    public double Gradient(Span<double> grad)
    {
        grad.Clear();
        double total = 0;
        foreach (var c in chunks)
        {
            double wgt = (double)c.Rows / count;
            var f = net.Forward(c.X, c.Ws);
            total += wgt * loss.Evaluate<double>(f, c.Y, c.Rows, c.DOut);
            net.Backward(c.Ws, c.DOut, scratch);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(scratch, wgt, grad, grad);
        }
        return total;
    }

    /// <summary>hv ← H·v, exact (R-operator).</summary>
    public void Multiply(ReadOnlySpan<double> v, Span<double> hv)
    {
        if (v.Length != Dimension || hv.Length != Dimension) throw new ArgumentException($"Vectors must have {Dimension} entries.");
        hv.Clear();
        foreach (var c in chunks)
        {
            double wgt = (double)c.Rows / count;
            var f = net.Forward(c.X, c.Ws);
            loss.Evaluate<double>(f, c.Y, c.Rows, c.DOut);
            net.Backward(c.Ws, c.DOut, []);   // per-op gradients only: H·v needs no ∇θ
            var rf = net.RForward(c.Ws, v);
            loss.HessianTimes<double>(c.Ws.Output, c.Y, rf, c.Rows, c.Rd);
            net.RBackward(c.Ws, v, c.Rd, scratch);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(scratch, wgt, hv, hv);
        }
    }

    /// <summary>
    /// gv ← G·v with G = Jᵀ(∇²_f ℓ)J the Gauss–Newton part of the Hessian (J the Jacobian of the outputs in the parameters):
    /// a forward pass, the R-forward pass Jv, the loss's output Hessian and a backward pass Jᵀ(·). For the MSE
    /// (1/(N·k))Σ(f − y)², G = (2/(N·k))JᵀJ, whose nonzero eigenvalues are (2/(N·k)) times the empirical NTK's on the data.
    /// </summary>
    public void GaussNewtonMultiply(ReadOnlySpan<double> v, Span<double> gv)
    {
        if (v.Length != Dimension || gv.Length != Dimension) throw new ArgumentException($"Vectors must have {Dimension} entries.");
        gv.Clear();
        foreach (var c in chunks)
        {
            double wgt = (double)c.Rows / count;
            net.Forward(c.X, c.Ws);
            var rf = net.RForward(c.Ws, v);
            loss.HessianTimes<double>(c.Ws.Output, c.Y, rf, c.Rows, c.Rd);
            net.Backward(c.Ws, c.Rd, scratch);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(scratch, wgt, gv, gv);
        }
    }

    /// <summary>λ_max of the Gauss–Newton matrix from <paramref name="steps"/> Lanczos steps (see
    /// <see cref="GaussNewtonMultiply"/>).</summary>
    public double GaussNewtonTop(int steps, Rng rng) =>
        Lanczos.Run((x, y) => GaussNewtonMultiply(x, y), Dimension, steps, rng).Values[^1];

    /// <summary>The full P × P Hessian from P products with unit vectors (small networks only: tests and diagnostics).</summary>
    public Matrix Full()
    {
        int p = Dimension;
        if (p > 20000) throw new BadInputException($"The network has {p} parameters; a dense Hessian is limited to 20000. Use Lanczos.");
        var h = new Matrix(p, p);
        var e = new double[p];
        for (int i = 0; i < p; i++)
        {
            e[i] = 1;
            Multiply(e, h.Row(i));
            e[i] = 0;
        }
        return h;
    }

    /// <summary>The <paramref name="k"/> largest eigenvalues (descending) from <paramref name="steps"/> Lanczos steps.</summary>
    public double[] TopEigenvalues(int k, int steps, Rng rng)
    {
        var r = Lanczos.Run((x, y) => Multiply(x, y), Dimension, Math.Max(steps, k), rng);
        return r.Values.Reverse().Take(k).ToArray();
    }

    /// <summary>Sharpness λ_max(H) from <paramref name="steps"/> Lanczos steps.</summary>
    public double Sharpness(int steps, Rng rng) => TopEigenvalues(1, steps, rng)[0];

    /// <summary>
    /// Preconditioned sharpness λ_max(P⁻¹H) for a positive diagonal P (Cohen et al. 2022): Lanczos on the symmetric
    /// P^{−1/2}HP^{−1/2}, which has the same eigenvalues.
    /// </summary>
    public double PreconditionedSharpness(ReadOnlySpan<double> diagonal, int steps, Rng rng)
    {
        if (diagonal.Length != Dimension) throw new ArgumentException($"Preconditioner has {diagonal.Length} entries, not {Dimension}.");
        var scale = new double[Dimension];
        for (int i = 0; i < scale.Length; i++)
            scale[i] = diagonal[i] > 0 ? 1 / Math.Sqrt(diagonal[i])
                : throw new ArgumentException($"Preconditioner entry {i} is {diagonal[i]}; it must be > 0.");
        var scaled = new double[Dimension];
        var r = Lanczos.Run((x, y) =>
        {
            for (int i = 0; i < scaled.Length; i++) scaled[i] = scale[i] * x[i];
            Multiply(scaled, y);
            for (int i = 0; i < y.Length; i++) y[i] *= scale[i];
        }, Dimension, steps, rng);
        return r.Values[^1];
    }

    /// <summary>Hutchinson's estimate of tr H with <paramref name="samples"/> Rademacher probes: (mean, standard error).</summary>
    public (double Trace, double StdErr) HutchinsonTrace(int samples, Rng rng)
    {
        if (samples < 2) throw new BadInputException($"Hutchinson needs ≥ 2 probes, got {samples}.");
        var v = new double[Dimension];
        var hv = new double[Dimension];
        var est = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            for (int i = 0; i < v.Length; i++) v[i] = (rng.NextUInt64() & 1) == 0 ? -1 : 1;
            Multiply(v, hv);
            est[s] = System.Numerics.Tensors.TensorPrimitives.Dot<double>(v, hv);
        }
        return (Statistics.Mean(est), Statistics.StandardError(est));
    }

    /// <summary>
    /// Stochastic Lanczos quadrature: for each of <paramref name="probes"/> random unit vectors, <paramref name="steps"/>
    /// Lanczos steps give nodes (Ritz values) and weights; the spectral density is their average, φ(t) ≈ (1/n_v) Σ_v Σ_j τ_j δ(t −
    /// λ_j).
    /// </summary>
    public SpectralDensity Density(int probes, int steps, Rng rng)
    {
        var nodes = new List<double>();
        var weights = new List<double>();
        for (int v = 0; v < probes; v++)
        {
            var r = Lanczos.Run((x, y) => Multiply(x, y), Dimension, steps, rng.Split((ulong)v));
            nodes.AddRange(r.Values);
            weights.AddRange(r.Weights.Select(w => w / probes));
        }
        return new SpectralDensity([.. nodes], [.. weights]);
    }
}

/// <summary>A discrete spectral measure Σ_j w_j δ(t − λ_j) (weights sum to 1) and its Gaussian-smoothed density.</summary>
public sealed record SpectralDensity(double[] Nodes, double[] Weights)
{
    /// <summary>Density at <paramref name="t"/> smoothed with a Gaussian of width <paramref name="sigma"/>.</summary>
    public double At(double t, double sigma) =>
        Nodes.Zip(Weights).Sum(p => p.Second * Math.Exp(-(t - p.First) * (t - p.First) / (2 * sigma * sigma)))
            / (Math.Sqrt(2 * Math.PI) * sigma);

    /// <summary>∫ f dμ by the quadrature rule (e.g. f = t gives tr H / P).</summary>
    public double Integrate(Func<double, double> f) => Nodes.Zip(Weights).Sum(p => p.Second * f(p.First));
}
