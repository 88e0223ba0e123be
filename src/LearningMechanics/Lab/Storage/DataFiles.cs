using System.Globalization;
using LearningMechanics.Data;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Storage;

/// <summary>The user's own data: matrices from .npy or .csv files (hardened readers) and supervised data sets from them.</summary>
public static class DataFiles
{
    /// <summary>The largest magnitude read: squares and inner products of such values stay finite.</summary>
    public const double MaxMagnitude = 1e100;

    /// <summary>A matrix from a .npy or .csv file; an empty one, a non-finite value or one beyond ±1e100 is refused.</summary>
    public static Matrix ReadMatrix(string path)
    {
        var m = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".npy" => Npy.Read(path),
            ".csv" or ".txt" or ".tsv" => CsvMatrix.Read(path),
            _ => throw new BadInputException($"Input '{path}' must be a .npy or .csv file."),
        };
        if (m.Rows == 0 || m.Cols == 0)
            throw new BadInputException($"{path} holds an empty array ({m.Rows}×{m.Cols}); at least one row and one column are needed.");
        if (m.FirstInvalid(MaxMagnitude) is { } bad)
            throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
                $"{path} has {bad.Value} at row {bad.Row}, column {bad.Col}; values must be finite and of magnitude ≤ 1e100 (larger ") +
                "ones overflow the inner products of kernels and spectra).");
        return m;
    }

    /// <summary>
    /// Inputs from <paramref name="xPath"/>, targets from <paramref name="yPath"/>. With <paramref name="labels"/> the targets
    /// are one column of integer class labels 0…C − 1 (C = <paramref name="classes"/>, or the largest label + 1), turned into
    /// one-hot rows; non-integer labels and labels out of range are named. With <paramref name="multiColumnTargets"/>, a
    /// file of several columns is taken as given targets (e.g. one-hot rows already) instead of being refused.
    /// </summary>
    public static Dataset Load(string xPath, string yPath, bool labels = false, int? classes = null, bool multiColumnTargets = false)
    {
        var x = ReadMatrix(xPath);
        var y = ReadMatrix(yPath);
        if (y.Rows != x.Rows) throw new BadInputException($"{yPath} has {y.Rows} rows but {xPath} has {x.Rows}; they must match.");
        string name = Path.GetFileNameWithoutExtension(xPath);
        if (!labels || (multiColumnTargets && y.Cols != 1)) return new Dataset(x, y, Name: name).Validated();
        if (y.Cols != 1) throw new BadInputException($"{yPath} has {y.Cols} columns; class labels must be a single column.");
        var l = new int[y.Rows];
        for (int i = 0; i < l.Length; i++)
        {
            double v = y.Data[i];
            if (!(v >= 0) || v != Math.Floor(v) || v > int.MaxValue)
                throw new BadInputException($"{yPath}: label {v} at row {i} is not a class index (non-negative integer).");
            l[i] = (int)v;
        }
        int c = classes ?? l.Max() + 1;
        return Dataset.Classification(x, l, Math.Max(c, 2), name);
    }
}
