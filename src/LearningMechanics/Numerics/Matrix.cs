namespace LearningMechanics.Numerics;

/// <summary>Dense row-major float64 matrix over a flat array (no hidden copies: <see cref="Data"/> is the storage).</summary>
public sealed class Matrix
{
    public int Rows { get; }
    public int Cols { get; }
    public double[] Data { get; }

    public Matrix(int rows, int cols)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"Matrix size {rows}×{cols} must be non-negative.");
        Rows = rows; Cols = cols; Data = new double[checked(rows * cols)];
    }

    public Matrix(int rows, int cols, double[] data)
    {
        if (data.Length != rows * cols) throw new ArgumentException($"Matrix {rows}×{cols} needs {rows * cols} values, got " +
            $"{data.Length}.");
        Rows = rows; Cols = cols; Data = data;
    }

    public ref double this[int i, int j] => ref Data[i * Cols + j];

    public Span<double> Row(int i) => Data.AsSpan(i * Cols, Cols);

    public static Matrix FromRows(double[][] rows)
    {
        int r = rows.Length;
        int c = r == 0 ? 0 : rows[0].Length;
        var m = new Matrix(r, c);
        for (int i = 0; i < r; i++)
        {
            if (rows[i].Length != c) throw new ArgumentException($"Row {i} has {rows[i].Length} values, expected {c}.");
            rows[i].CopyTo(m.Row(i));
        }
        return m;
    }

    public static Matrix Identity(int n)
    {
        var m = new Matrix(n, n);
        for (int i = 0; i < n; i++) m[i, i] = 1;
        return m;
    }

    public Matrix Clone() => new(Rows, Cols, (double[])Data.Clone());

    /// <summary>The first entry in row-major order that is not finite or exceeds <paramref name="maxMagnitude"/> in magnitude
    /// (null when there is none): the one place a reader of user data names the bad value.</summary>
    public (int Row, int Col, double Value)? FirstInvalid(double maxMagnitude = double.MaxValue)
    {
        for (int i = 0; i < Data.Length; i++)
            if (!(Math.Abs(Data[i]) <= maxMagnitude))
                return (i / Cols, i % Cols, Data[i]);
        return null;
    }

    /// <summary>Rows start…start + count − 1 as a new matrix.</summary>
    public Matrix RowRange(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Rows)
            throw new ArgumentOutOfRangeException(nameof(count), $"Rows {start}…{start + count - 1} of a {Rows}-row matrix.");
        return new Matrix(count, Cols, Data.AsSpan(start * Cols, count * Cols).ToArray());
    }

    /// <summary>The rows of <paramref name="a"/> followed by those of <paramref name="b"/>.</summary>
    public static Matrix Stack(Matrix a, Matrix b)
    {
        if (a.Cols != b.Cols) throw new ArgumentException($"Cannot stack {a.Cols}- and {b.Cols}-column matrices.");
        var m = new Matrix(a.Rows + b.Rows, a.Cols);
        a.Data.CopyTo(m.Data, 0); b.Data.CopyTo(m.Data, a.Data.Length);
        return m;
    }

    public Matrix Transposed()
    {
        var t = new Matrix(Cols, Rows);
        for (int i = 0; i < Rows; i++)
            for (int j = 0; j < Cols; j++) t[j, i] = this[i, j];
        return t;
    }

    /// <summary>
    /// Copies one triangle of the n×n row-major matrix <paramref name="c"/> (leading dimension <paramref name="ldc"/>) onto
    /// the other: the lower from the upper when <paramref name="upperToLower"/>, else the upper from the lower. Tile by
    /// tile (32×32), so both the rows read and the rows written stay in cache.
    /// </summary>
    public static void Mirror(Span<double> c, int n, int ldc, bool upperToLower)
    {
        const int tile = 32;
        for (int bi = 0; bi < n; bi += tile)
            for (int bj = bi; bj < n; bj += tile)
            {
                int iEnd = Math.Min(bi + tile, n);
                int jEnd = Math.Min(bj + tile, n);
                for (int i = bi; i < iEnd; i++)
                    for (int j = Math.Max(bj, i + 1); j < jEnd; j++)
                    {
                        if (upperToLower) c[j * ldc + i] = c[i * ldc + j];
                        else c[i * ldc + j] = c[j * ldc + i];
                    }
            }
    }

    /// <summary>op(A)·op(B) through <see cref="Blas.Gemm(Transpose, Transpose, int, int, int, double, ReadOnlySpan{double}, int,
    /// ReadOnlySpan{double}, int, double, Span{double}, int)"/>.</summary>
    public static Matrix Multiply(Matrix a, Matrix b, Transpose ta = Transpose.No, Transpose tb = Transpose.No)
    {
        int m = ta == Transpose.No ? a.Rows : a.Cols;
        int k = ta == Transpose.No ? a.Cols : a.Rows;
        int kb = tb == Transpose.No ? b.Rows : b.Cols;
        int n = tb == Transpose.No ? b.Cols : b.Rows;
        if (k != kb) throw new ArgumentException($"Cannot multiply {m}×{k} by {kb}×{n}.");
        var c = new Matrix(m, n);
        Blas.Gemm(ta, tb, m, n, k, 1.0, a.Data, a.Cols, b.Data, b.Cols, 0.0, c.Data, Math.Max(1, n));
        return c;
    }

    public static Matrix operator *(Matrix a, Matrix b) => Multiply(a, b);

    /// <summary>Largest |a_ij − a_ji| (0 for a symmetric matrix).</summary>
    public double AsymmetryNorm()
    {
        if (Rows != Cols) throw new InvalidOperationException("Matrix is not square.");
        double worst = 0;
        for (int i = 0; i < Rows; i++)
            for (int j = i + 1; j < Cols; j++) worst = Math.Max(worst, Math.Abs(this[i, j] - this[j, i]));
        return worst;
    }

    public double MaxAbsDifference(Matrix other)
    {
        if (other.Rows != Rows || other.Cols != Cols) throw new ArgumentException("Shapes differ.");
        double worst = 0;
        for (int i = 0; i < Data.Length; i++) worst = Math.Max(worst, Math.Abs(Data[i] - other.Data[i]));
        return worst;
    }
}
