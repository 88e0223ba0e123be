using LearningMechanics.Numerics;

namespace LearningMechanics.Data;

/// <summary>
/// Fashion-MNIST (Xiao et al. 2017): 28×28 grey-scale images of 10 clothing classes, 60 000 for training and
/// 10 000 for testing, read from Debian's <c>dataset-fashion-mnist</c> package (gzip IDX files) with our <see cref="Idx"/>
/// loader. Images are flattened to 784 features scaled to [0, 1]; labels become one-hot targets.
/// </summary>
public static class FashionMnist
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public const int Classes = 10;
    /// <summary>Images of the training split.</summary>
    public const int TrainCount = 60000;
    /// <summary>Pixels per image (28×28).</summary>
    public const int Pixels = 784;

    /// <summary>A setting's number of training images, checked against the split's <see cref="TrainCount"/> (a larger
    /// request would silently get the whole split).</summary>
    public static int TrainSubset(string setting, int count) => count <= TrainCount ? count
        : throw new BadInputException($"Setting {setting}={count} exceeds the {TrainCount} Fashion-MNIST training images.");
    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The data directory: <c>LMECH_FASHION_MNIST</c> when set, else Debian's location.</summary>
    public static string Directory => Environment.GetEnvironmentVariable("LMECH_FASHION_MNIST") is { Length: > 0 } d ? d : DefaultDirectory;

    public static bool Available(string? directory = null) =>
        File.Exists(Path.Combine(directory ?? Directory, "train-images-idx3-ubyte.gz"));

    /// <summary>
    /// The "train" or "test" split, optionally only <paramref name="count"/> examples (a random subset when
    /// <paramref name="rng"/> is given, else the first ones).
    /// </summary>
    public static Dataset Load(string split, int? count = null, Rng? rng = null, string? directory = null)
    {
        string prefix = split switch
        {
            "train" => "train",
            "test" => "t10k",
            _ => throw new BadInputException($"Unknown Fashion-MNIST split '{split}'. Allowed: train, test."),
        };
        string dir = directory ?? Directory;
        string images = Path.Combine(dir, $"{prefix}-images-idx3-ubyte.gz");
        string labels = Path.Combine(dir, $"{prefix}-labels-idx1-ubyte.gz");
        if (!File.Exists(images) || !File.Exists(labels))
            throw new BadInputException($"Fashion-MNIST files not found in '{dir}'. " +
                "Install them with: apt-get install dataset-fashion-mnist (or set LMECH_FASHION_MNIST).");
        var img = Idx.ReadRaw(images);
        var lab = Idx.Read(labels);
        if (img.Dims.Length != 3 || lab.Dims.Length != 1 || img.Dims[0] != lab.Dims[0])
            throw new BadInputException($"Fashion-MNIST files have inconsistent shapes: images [{string.Join(",", img.Dims)}], " +
                $"labels [{string.Join(",", lab.Dims)}].");
        int n = img.Dims[0];
        if (count is < 1) throw new BadInputException($"Subset size {count} must be ≥ 1.");
        // Only the chosen rows are decoded (the whole training split as doubles is 376 MB); the rows and their order are
        // those of Dataset.Take and Dataset.Sample on the full split.
        int[] rows = count is not { } c || c >= n ? [.. Enumerable.Range(0, n)]
            : rng is null ? [.. Enumerable.Range(0, c)] : Dataset.SampleRows(n, c, rng);
        int d = img.RowLength;
        var x = new Matrix(rows.Length, d);
        for (int i = 0; i < rows.Length; i++)
        {
            var row = x.Row(i);
            img.Decode((long)rows[i] * d, row);
            for (int j = 0; j < d; j++) row[j] /= 255.0;
        }
        var y = rows.Select(r => (int)lab.Data[r]).ToArray();
        return Dataset.Classification(x, y, Classes, $"fashion-mnist-{split}");
    }

    /// <summary>2×2 average pooling of the 28×28 images to 14×14: 196 inputs (for grids whose cost the first layer would
    /// otherwise dominate).</summary>
    public static Dataset Pooled(Dataset d)
    {
        if (d.InputDim != 784) throw new BadInputException($"Pooling needs 28×28 images (784 inputs); '{d.Name}' has {d.InputDim}.");
        var x = new Matrix(d.Count, 196);
        for (int i = 0; i < d.Count; i++)
            for (int r = 0; r < 14; r++)
                for (int c = 0; c < 14; c++)
                    x[i, r * 14 + c] = (d.X[i, 56 * r + 2 * c] + d.X[i, 56 * r + 2 * c + 1] + d.X[i, 56 * r + 28 + 2 * c]
                        + d.X[i, 56 * r + 29 + 2 * c]) / 4;
        return d with { X = x, Name = d.Name + "-14x14" };
    }
}
