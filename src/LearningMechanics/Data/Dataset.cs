using System.Numerics;
using LearningMechanics.Numerics;

namespace LearningMechanics.Data;

/// <summary>
/// A supervised data set: inputs X (N × d) and targets Y (N × k), float64. For classification <see cref="Labels"/> holds
/// the class of each row and Y its one-hot encoding.
/// </summary>
public sealed record Dataset(Matrix X, Matrix Y, int[]? Labels = null, int Classes = 0, string Name = "data")
{
    public int Count => X.Rows;
    public int InputDim => X.Cols;
    public int OutputDim => Y.Cols;

    public Dataset Validated()
    {
        if (X.Rows != Y.Rows) throw new BadInputException($"Inputs have {X.Rows} rows but targets have {Y.Rows}; they must match.");
        if (X.Rows == 0) throw new BadInputException("The data set is empty.");
        if (X.FirstInvalid() is { } x)
            throw new BadInputException($"Input value at row {x.Row}, column {x.Col} is {x.Value}; inputs must be finite.");
        if (Y.FirstInvalid() is { } y)
            throw new BadInputException($"Target value at row {y.Row}, column {y.Col} is {y.Value}; targets must be finite.");
        return this;
    }

    /// <summary>A classification data set: labels must lie in 0…classes − 1; Y is their one-hot encoding.</summary>
    public static Dataset Classification(Matrix x, int[] labels, int classes, string name = "data")
    {
        if (classes < 2) throw new BadInputException($"Number of classes {classes} must be ≥ 2.");
        if (labels.Length != x.Rows) throw new BadInputException($"Inputs have {x.Rows} rows but there are {labels.Length} labels.");
        return new Dataset(x, OneHot(labels, classes), labels, classes, name).Validated();
    }

    /// <summary>One-hot rows for labels in 0…classes − 1; a label outside that range is named in the error.</summary>
    public static Matrix OneHot(int[] labels, int classes)
    {
        var y = new Matrix(labels.Length, classes);
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= classes)
                throw new BadInputException($"Label {labels[i]} at row {i} is out of range: labels must be in 0…{classes - 1}.");
            y[i, labels[i]] = 1;
        }
        return y;
    }

    /// <summary>The rows <paramref name="rows"/> (in that order).</summary>
    public Dataset Subset(IReadOnlyList<int> rows)
    {
        var x = new Matrix(rows.Count, X.Cols);
        var y = new Matrix(rows.Count, Y.Cols);
        for (int i = 0; i < rows.Count; i++) { X.Row(rows[i]).CopyTo(x.Row(i)); Y.Row(rows[i]).CopyTo(y.Row(i)); }
        return this with { X = x, Y = y, Labels = Labels is null ? null : rows.Select(r => Labels[r]).ToArray() };
    }

    /// <summary>The first <paramref name="count"/> rows (or all when there are fewer).</summary>
    public Dataset Take(int count) => count >= Count ? this : Subset(Enumerable.Range(0, count).ToArray());

    /// <summary>A random subset of <paramref name="count"/> rows drawn without replacement.</summary>
    public Dataset Sample(int count, Rng rng) => count >= Count ? this : Subset(SampleRows(Count, count, rng));

    /// <summary><paramref name="count"/> &lt; <paramref name="total"/> distinct row indices in random order (the first
    /// <paramref name="count"/> steps of a Fisher–Yates shuffle).</summary>
    public static int[] SampleRows(int total, int count, Rng rng)
    {
        var perm = Enumerable.Range(0, total).ToArray();
        for (int i = 0; i < count; i++) { int j = i + rng.NextInt(total - i); (perm[i], perm[j]) = (perm[j], perm[i]); }
        return perm[..count];
    }

    /// <summary>
    /// Standardises every input feature to mean 0 and variance 1 using the statistics of <paramref name="reference"/>
    /// (the training set, so test data is transformed the same way); constant features are only centred.
    /// </summary>
    public Dataset Standardized(Dataset? reference = null)
    {
        var r = (reference ?? this).X;
        var x = X.Clone();
        for (int j = 0; j < x.Cols; j++)
        {
            double mean = 0;
            double sq = 0;
            for (int i = 0; i < r.Rows; i++) mean += r[i, j];
            mean /= r.Rows;
            for (int i = 0; i < r.Rows; i++) sq += (r[i, j] - mean) * (r[i, j] - mean);
            double sd = Math.Sqrt(sq / r.Rows);
            for (int i = 0; i < x.Rows; i++) x[i, j] = sd > 0 ? (x[i, j] - mean) / sd : x[i, j] - mean;
        }
        return this with { X = x };
    }

    /// <summary>The inputs (or targets) in the network's precision, copied once.</summary>
    public static T[] Convert<T>(Matrix m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = new T[m.Data.Length];
        for (int i = 0; i < a.Length; i++) a[i] = T.CreateTruncating(m.Data[i]);
        return a;
    }
}
