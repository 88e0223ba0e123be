namespace LearningMechanics.Numerics;

/// <summary>Whether a BLAS operand is used as stored or transposed.</summary>
public enum Transpose { No, Yes }
