namespace LearningMechanics;

/// <summary>
/// Invalid user input (unknown name, out-of-range value, malformed file). The message names the bad value and
/// what is allowed; the command line maps it to exit code 2.
/// </summary>
public sealed class BadInputException(string message) : Exception(message);
