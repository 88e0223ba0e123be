using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Observables;

/// <summary>Decisions of a classifier from its outputs: the arg-max class and the accuracy against one-hot targets.</summary>
public static class Classification
{
    /// <summary>Index of the largest entry (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<double> v)
    {
        int k = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[k]) k = i;
        return k;
    }

    /// <summary>Fraction of rows whose largest output is at the target row's largest entry.</summary>
    public static double Accuracy(Matrix outputs, Matrix targets)
    {
        int right = 0;
        for (int i = 0; i < outputs.Rows; i++) if (ArgMax(outputs.Row(i)) == ArgMax(targets.Row(i))) right++;
        return (double)right / outputs.Rows;
    }
}
