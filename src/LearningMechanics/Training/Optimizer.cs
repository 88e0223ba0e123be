using System.Numerics;
using System.Numerics.Tensors;
using LearningMechanics.Architecture;
using LearningMechanics.Networks;

namespace LearningMechanics.Training;

public enum OptimizerKind { Gd, Sgd, Momentum, Adam }

/// <summary>
/// Optimiser settings with PyTorch's conventions (torch.optim.SGD / Adam): weight decay adds λ·θ to the gradient;
/// momentum keeps b ← μ·b + g (b₀ = g₀) and steps θ ← θ − η·b (Nesterov: θ ← θ − η·(g + μ·b)); Adam keeps
/// m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g² and steps θ ← θ − η·m̂/(√v̂ + ε) with bias-corrected m̂,
/// v̂. GD and SGD differ only in the batch (full data or mini-batches). <see cref="PerLayerEpsilon"/> scales ε per tensor by
/// <see cref="ParameterRule.AdamEpsilonFactor"/> (Everett et al. 2024). <see cref="HiddenFactor"/> multiplies the learning rate of
/// the hidden weights (fan-in and fan-out the width; in a residual MLP, the blocks' weights): depth-μP's Adam rule L^{−1/2}
/// (Yang et al. 2023) or CompleteP's L^{α−1} (Dey et al. 2025).
/// </summary>
public sealed record OptimizerSettings(OptimizerKind Kind, double LearningRate, double Momentum = 0.9, bool Nesterov = false,
    double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, double WeightDecay = 0, bool PerLayerEpsilon = false,
    double HiddenFactor = 1)
{
    public OptimizerSettings Validated()
    {
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate))
            throw new BadInputException($"Learning rate {LearningRate} must be a positive finite number.");
        if (!(Momentum >= 0 && Momentum < 1)) throw new BadInputException($"Momentum {Momentum} must be in [0, 1).");
        if (!(Beta1 >= 0 && Beta1 < 1) || !(Beta2 >= 0 && Beta2 < 1))
            throw new BadInputException($"Adam betas ({Beta1}, {Beta2}) must be in [0, 1).");
        if (!(Epsilon > 0)) throw new BadInputException($"Adam epsilon {Epsilon} must be > 0.");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw new BadInputException($"Weight decay {WeightDecay} must be ≥ 0.");
        if (!(HiddenFactor > 0) || !double.IsFinite(HiddenFactor))
            throw new BadInputException($"Hidden-layer learning-rate factor {HiddenFactor} must be a positive finite number.");
        return this;
    }

    public static OptimizerKind ParseKind(string text) => text.Trim().ToLowerInvariant() switch
    {
        "gd" => OptimizerKind.Gd,
        "sgd" => OptimizerKind.Sgd,
        "momentum" or "heavy-ball" => OptimizerKind.Momentum,
        "adam" => OptimizerKind.Adam,
        _ => throw new BadInputException($"Unknown optimiser '{text}'. Allowed: gd, sgd, momentum, adam."),
    };
}

/// <summary>
/// One optimiser's state for one network; every tensor's step is scaled by its parameterisation factor
/// (<see cref="ParameterRule.SgdFactor"/> or <see cref="ParameterRule.AdamFactor"/>, μP's per-layer learning rates).
/// State buffers are allocated once.
/// </summary>
public sealed class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly OptimizerSettings s;
    private readonly IReadOnlyList<ParameterTensor> tensors;
    private readonly T[] m;
    private readonly T[] v;
    private readonly T[] g;
    private int t;

    public OptimizerSettings Settings => s;

    public Optimizer(Network<T> net, OptimizerSettings settings)
    {
        s = settings.Validated();
        tensors = net.Tensors;
        int n = net.ParameterCount;
        m = s.Kind is OptimizerKind.Momentum or OptimizerKind.Adam ? new T[n] : [];
        v = s.Kind is OptimizerKind.Adam ? new T[n] : [];
        g = s.WeightDecay > 0 ? new T[n] : [];
    }

    /// <summary>
    /// Adam's diagonal preconditioner for the next step, in the form of Cohen et al. 2022, §2: with
    /// <paramref name="grad"/> the gradient the step will use, the step is θ ← θ − η·P⁻¹m exactly, P = (1 − β₁^{t+1})·
    /// diag(√v̂ + ε) divided by each tensor's learning-rate factor, m and v̂ (bias-corrected) the moments updated with that
    /// gradient. For a frozen P, Adam is heavy-ball momentum on P^{−1/2}HP^{−1/2} with rate (1 − β₁)η, stable while
    /// λ_max(P⁻¹H) &lt; (2 + 2β₁)/((1 − β₁)η).
    /// </summary>
    public void AdamPreconditioner(ReadOnlySpan<T> grad, Span<double> diagonal)
    {
        if (s.Kind != OptimizerKind.Adam) throw new InvalidOperationException($"{s.Kind} has no Adam preconditioner.");
        if (s.WeightDecay > 0) throw new InvalidOperationException("Adam's preconditioner is defined here without weight decay.");
        double b2 = s.Beta2;
        double bc1 = 1 - Math.Pow(s.Beta1, t + 1);
        double bc2 = 1 - Math.Pow(b2, t + 1);
        foreach (var tensor in tensors)
        {
            double factor = (tensor.Role == ParameterRole.HiddenWeight ? s.HiddenFactor : 1) * tensor.Rule.AdamFactor;
            double eps = s.PerLayerEpsilon ? s.Epsilon * tensor.Rule.AdamEpsilonFactor : s.Epsilon;
            for (int i = tensor.Offset; i < tensor.Offset + tensor.Length; i++)
            {
                double g = double.CreateTruncating(grad[i]);
                double vNext = b2 * double.CreateTruncating(v[i]) + (1 - b2) * g * g;
                diagonal[i] = bc1 * (Math.Sqrt(vNext / bc2) + eps) / factor;
            }
        }
    }

    /// <summary>Optimiser steps taken so far.</summary>
    public int StepsTaken => t;

    /// <summary>θ ← θ − η·(update from <paramref name="grad"/>), η = <paramref name="learningRate"/> times the tensor's
    /// factor (and <see cref="OptimizerSettings.HiddenFactor"/> for hidden weights).</summary>
    public void Step(Span<T> theta, ReadOnlySpan<T> grad, double learningRate)
    {
        if (s.WeightDecay > 0)
        {
            TensorPrimitives.MultiplyAdd(theta, T.CreateTruncating(s.WeightDecay), grad, g);
            grad = g;
        }
        t++;
        foreach (var tensor in tensors)
        {
            var p = theta.Slice(tensor.Offset, tensor.Length);
            var gt = grad.Slice(tensor.Offset, tensor.Length);
            double lrTensor = tensor.Role == ParameterRole.HiddenWeight ? learningRate * s.HiddenFactor : learningRate;
            switch (s.Kind)
            {
                case OptimizerKind.Gd or OptimizerKind.Sgd:
                    TensorPrimitives.MultiplyAdd(gt, T.CreateTruncating(-lrTensor * tensor.Rule.SgdFactor), p, p);
                    break;
                case OptimizerKind.Momentum:
                    {
                        var b = m.AsSpan(tensor.Offset, tensor.Length);
                        if (t == 1) gt.CopyTo(b);
                        else TensorPrimitives.MultiplyAdd(b, T.CreateTruncating(s.Momentum), gt, b);
                        T lr = T.CreateTruncating(-lrTensor * tensor.Rule.SgdFactor);
                        if (s.Nesterov)
                        {
                            TensorPrimitives.MultiplyAdd(gt, lr, p, p);
                            TensorPrimitives.MultiplyAdd(b, lr * T.CreateTruncating(s.Momentum), p, p);
                        }
                        else TensorPrimitives.MultiplyAdd(b, lr, p, p);
                        break;
                    }
                case OptimizerKind.Adam:
                    {
                        var mt = m.AsSpan(tensor.Offset, tensor.Length);
                        var vt = v.AsSpan(tensor.Offset, tensor.Length);
                        T b1 = T.CreateTruncating(s.Beta1);
                        T b2 = T.CreateTruncating(s.Beta2);
                        T c1 = T.One - b1;
                        T c2 = T.One - b2;
                        double bc1 = 1 - Math.Pow(s.Beta1, t);
                        double bc2 = 1 - Math.Pow(s.Beta2, t);
                        T stepSize = T.CreateTruncating(lrTensor * tensor.Rule.AdamFactor / bc1);
                        T invSqrtBc2 = T.CreateTruncating(1 / Math.Sqrt(bc2));
                        T eps = T.CreateTruncating(s.PerLayerEpsilon ? s.Epsilon * tensor.Rule.AdamEpsilonFactor : s.Epsilon);
                        for (int i = 0; i < p.Length; i++)
                        {
                            mt[i] = b1 * mt[i] + c1 * gt[i];
                            vt[i] = b2 * vt[i] + c2 * gt[i] * gt[i];
                            p[i] -= stepSize * mt[i] / (T.Sqrt(vt[i]) * invSqrtBc2 + eps);
                        }
                        break;
                    }
            }
        }
    }
}
