using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// The empirical NTK Θ̂(x, x′) = Σ_θ ∂f_c(x)/∂θ · ∂f_c(x′)/∂θ of a finite <see cref="Network{T}"/> for output c, over
/// all stored parameters, from per-layer contractions instead of the Jacobian (Jacot et al. 2018; Roberts &amp; Yaida 2022, eq. 7.17): for
/// a dense layer z = m_W·W·h + m_b·b with Δ = ∂f/∂z from one backward pass of the batch (rows are per-sample gradients),
/// ∂f/∂W = m_W·Δ hᵀ and ∂f/∂b = m_b·Δ, so Θ̂ = Σ_layers (Δ Δᵀ) ⊙ (m_W²·H Hᵀ + m_b²). Cost: one forward and one
/// backward pass plus two SYRKs per layer; no P × (#parameters) matrix. Buffers are allocated once per batch size.
/// With <c>stepKernel</c> each tensor's term is weighted by its SGD factor (<see cref="Architecture.ParameterRule.SgdFactor"/>:
/// μP's and mean-field's per-tensor learning rates), giving the kernel of the GD step, f(t+1) − f(t) ≈ −η·Θ·∂L/∂f; the two
/// coincide for sp and ntk (factors 1).
/// </summary>
public sealed class EmpiricalNtk
{
    private readonly Network<double> net;
    private readonly Network<double>.Workspace ws;
    private readonly double[] dOut;
    private readonly double[] grad;
    private readonly double[] dd;
    private readonly double[] hh;
    private readonly int batch;
    private readonly bool stepKernel;

    public EmpiricalNtk(Network<double> net, int batch, bool stepKernel = false)
    {
        this.net = net; this.batch = batch; this.stepKernel = stepKernel;
        ws = net.CreateWorkspace(batch);
        dOut = new double[batch * net.OutputDim]; grad = new double[net.ParameterCount];
        dd = new double[batch * batch]; hh = new double[batch * batch];
    }

    /// <summary>Θ̂ for output <paramref name="output"/> on the rows of <paramref name="x"/> (batch × batch, symmetric).</summary>
    public Matrix Compute(Matrix x, int output = 0)
    {
        if (x.Rows != batch) throw new ArgumentException($"Expected {batch} inputs, got {x.Rows}.");
        if (output < 0 || output >= net.OutputDim) throw new BadInputException($"Output index {output} must be in " +
            $"0…{net.OutputDim - 1}.");
        net.Forward(x.Data, ws);
        Array.Clear(dOut);
        for (int i = 0; i < batch; i++) dOut[i * net.OutputDim + output] = 1;
        net.Backward(ws, dOut, grad);
        var theta = new Matrix(batch, batch);
        for (int d = 0; d < net.DenseCount; d++)
        {
            int k = net.DenseInputIndex(d);
            var w = net.Tensors[2 * d];
            var b = net.Tensors[2 * d + 1];
            int fanOut = w.Shape[0];
            int fanIn = w.Shape[1];
            Blas.Syrk(batch, fanOut, 1.0, ws.Gradients(k + 1), fanOut, 0.0, dd, batch);
            double sw = stepKernel ? w.Rule.SgdFactor : 1;
            Blas.Syrk(batch, fanIn, sw * w.Rule.Multiplier * w.Rule.Multiplier, ws.Activations(k), fanIn, 0.0, hh, batch);
            double mb2 = (stepKernel ? b.Rule.SgdFactor : 1) * b.Rule.Multiplier * b.Rule.Multiplier;
            for (int i = 0; i < dd.Length; i++) theta.Data[i] += dd[i] * (hh[i] + mb2);
        }
        return theta;
    }

    /// <summary>Kernel distance 1 − ⟨A, B⟩_F/(‖A‖_F‖B‖_F) (Fort et al. 2020): 0 for kernels equal up to scale.</summary>
    public static double Distance(Matrix a, Matrix b)
    {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.Data.Length; i++) { ab += a.Data[i] * b.Data[i]; aa += a.Data[i] * a.Data[i]; bb += b.Data[i] * b.Data[i]; }
        return 1 - ab / Math.Sqrt(aa * bb);
    }

    /// <summary>Relative movement ‖after − before‖_F/‖before‖_F (e.g. of the NTK during training).</summary>
    public static double RelativeChange(Matrix before, Matrix after)
    {
        if (before.Rows != after.Rows || before.Cols != after.Cols) throw new ArgumentException("Kernels of different shapes.");
        double d = 0;
        double b = 0;
        for (int i = 0; i < before.Data.Length; i++)
        {
            d += Math.Pow(after.Data[i] - before.Data[i], 2);
            b += before.Data[i] * before.Data[i];
        }
        return Math.Sqrt(d / b);
    }

    /// <summary>Kernel–target alignment yᵀΘy/(‖Θ‖_F·‖y‖²) (Cristianini et al. 2002), in [−1, 1] for PSD Θ.</summary>
    public static double Alignment(Matrix theta, ReadOnlySpan<double> y)
    {
        double yty = 0;
        double fro = 0;
        double yky = 0;
        foreach (var v in y) yty += v * v;
        foreach (var v in theta.Data) fro += v * v;
        for (int i = 0; i < theta.Rows; i++)
            for (int j = 0; j < theta.Cols; j++) yky += y[i] * theta[i, j] * y[j];
        return yky / (Math.Sqrt(fro) * yty);
    }
}
