using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Observables;

/// <summary>
/// The empirical NTK Θ̂(x, x′) = Σ_θ ∂f(x)/∂θ · ∂f(x′)/∂θ of a finite <see cref="Mlp"/> (scalar output) over all weights
/// and biases, from per-layer contractions instead of the Jacobian (seed 002 §3.1; seed 004 eq. 7.17):
/// with Δ_ℓ = ∂f/∂z^{ℓ+1} from the backward pass and H_ℓ the layer's input,
/// Θ̂ = Σ_ℓ (Δ_ℓ Δ_ℓᵀ) ⊙ (σ_w²/fan_in · H_ℓ H_ℓᵀ + σ_b²), since ∂f/∂W_ℓ = (σ_w/√fan_in)·Δ_ℓ H_ℓᵀ and ∂f/∂b_ℓ = σ_b·Δ_ℓ.
/// Cost: one forward and one backward pass of the batch (GEMMs), no P × (#parameters) matrix.
/// </summary>
public sealed class EmpiricalNtk
{
    private readonly Mlp net;
    private readonly Mlp.Workspace ws;
    private readonly Matrix[] delta;
    private readonly double[] dd, hh;
    private readonly int batch;

    /// <summary>Buffers for a batch of <paramref name="batch"/> inputs, allocated once and reused by every <see cref="Compute"/>.</summary>
    public EmpiricalNtk(Mlp net, int batch)
    {
        if (net.Spec.OutputDim != 1) throw new BadInputException($"The empirical NTK here is for a scalar output; the network has {net.Spec.OutputDim} outputs.");
        this.net = net; this.batch = batch;
        ws = net.CreateWorkspace(batch);
        delta = Enumerable.Range(0, net.Spec.Depth + 1).Select(l => new Matrix(batch, net.Spec.FanOut(l))).ToArray();
        dd = new double[batch * batch]; hh = new double[batch * batch];
    }

    /// <summary>Θ̂ on the rows of <paramref name="x"/> for the network's current parameters (P × P, symmetric).</summary>
    public Matrix Compute(Matrix x)
    {
        var spec = net.Spec;
        net.Forward(x, ws);
        double sw = Math.Sqrt(spec.Sw2);
        var theta = new Matrix(batch, batch);
        for (int l = spec.Depth; l >= 0; l--)
        {
            int fanIn = spec.FanIn(l), fanOut = spec.FanOut(l);
            if (l == spec.Depth) Array.Fill(delta[l].Data, 1.0);
            else
            {
                // Δ_ℓ = (Δ_{ℓ+1} · W_{ℓ+1}) · σ_w/√fan_in ⊙ φ′(z^{ℓ+1})
                int nextFanIn = spec.FanIn(l + 1);
                Blas.Gemm(Transpose.No, Transpose.No, batch, nextFanIn, spec.FanOut(l + 1), sw / Math.Sqrt(nextFanIn),
                    delta[l + 1].Data, spec.FanOut(l + 1), net.Weights[l + 1], nextFanIn, 0.0, delta[l].Data, nextFanIn);
                var z = ws.Pre[l].Data; var d = delta[l].Data;
                for (int i = 0; i < d.Length; i++) d[i] *= spec.Activation.Derivative(z[i]);
            }
            var h = l == 0 ? x : ws.Post[l - 1];
            Blas.Syrk(batch, fanOut, 1.0, delta[l].Data, fanOut, 0.0, dd, batch);
            Blas.Syrk(batch, fanIn, spec.Sw2 / fanIn, h.Data, fanIn, 0.0, hh, batch);
            for (int i = 0; i < dd.Length; i++) theta.Data[i] += dd[i] * (hh[i] + spec.Sb2);
        }
        return theta;
    }
}
