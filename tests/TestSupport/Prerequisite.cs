using Xunit;

namespace Reference.Tests.Support;

/// <summary>
/// A proof that needs something the machine may lack (podman, nginx): skipped on a developer's
/// machine, failed in CI, where the test command installs everything and a skip would pass for a proof.
/// </summary>
public static class Prerequisite
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void Require(bool available, string whatIsMissing)
    {
        if (available)
        {
            return;
        }

        if (InCi)
        {
            throw new InvalidOperationException($"CI must run this proof, but: {whatIsMissing}");
        }

        Skip.If(true, "Skipped: " + whatIsMissing);
    }
}
