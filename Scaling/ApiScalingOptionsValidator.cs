using Microsoft.Extensions.Options;

namespace Reference.Scaling;

/// <summary>Bad API scaling settings stop start-up with one message that names every mistake.</summary>
public sealed class ApiScalingOptionsValidator : IValidateOptions<ApiScalingOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiScalingOptions options)
    {
        var errors = new List<string>();
        if (options.LatencyTarget <= TimeSpan.Zero)
        {
            errors.Add($"{ApiScalingOptions.Section}:LatencyTarget is {options.LatencyTarget}; it must be above zero");
        }

        if (!(options.InFlightPerReplicaTarget > 0))
        {
            errors.Add($"{ApiScalingOptions.Section}:InFlightPerReplicaTarget is {options.InFlightPerReplicaTarget}; it must be above 0");
        }

        if (options.StableWindow < TimeSpan.Zero)
        {
            errors.Add($"{ApiScalingOptions.Section}:StableWindow is {options.StableWindow}; it must not be negative");
        }

        if (options.DrainTimeout < TimeSpan.Zero)
        {
            errors.Add($"{ApiScalingOptions.Section}:DrainTimeout is {options.DrainTimeout}; it must not be negative");
        }

        if (options.Interval <= TimeSpan.Zero)
        {
            errors.Add($"{ApiScalingOptions.Section}:Interval is {options.Interval}; it must be above zero");
        }

        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Invalid API scaling settings: {string.Join("; ", errors)}.");
    }
}
