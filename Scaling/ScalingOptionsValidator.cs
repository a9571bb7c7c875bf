using Microsoft.Extensions.Options;

namespace Reference.Scaling;

/// <summary>Bad scaling settings stop start-up with one message that names every mistake.</summary>
public sealed class ScalingOptionsValidator : IValidateOptions<ScalingOptions>
{
    public ValidateOptionsResult Validate(string? name, ScalingOptions options)
    {
        var errors = new List<string>();
        if (options.MinWorkers < 0)
        {
            errors.Add($"Scaling:MinWorkers is {options.MinWorkers}; it must be 0 or more");
        }

        if (options.MaxWorkers is { } max && max < 1)
        {
            errors.Add($"Scaling:MaxWorkers is {max}; it must be 1 or more");
        }
        else if (options.MaxWorkers is { } cap && cap < options.MinWorkers)
        {
            errors.Add($"Scaling:MaxWorkers ({cap}) is below Scaling:MinWorkers ({options.MinWorkers})");
        }

        if (options.WorkerMemoryMegabytes < 1)
        {
            errors.Add($"Scaling:WorkerMemoryMegabytes is {options.WorkerMemoryMegabytes}; it must be 1 or more");
        }

        if (!(options.JobsPerWorkerTarget > 0))
        {
            errors.Add($"Scaling:JobsPerWorkerTarget is {options.JobsPerWorkerTarget}; it must be above 0");
        }

        foreach (var (setting, value) in new[]
                 {
                     (nameof(options.OldestWaitingTarget), options.OldestWaitingTarget),
                     (nameof(options.LatencyTarget), options.LatencyTarget),
                     (nameof(options.StableWindow), options.StableWindow),
                     (nameof(options.IdleTimeout), options.IdleTimeout),
                     (nameof(options.DrainTimeout), options.DrainTimeout),
                 })
        {
            if (value < TimeSpan.Zero)
            {
                errors.Add($"Scaling:{setting} is {value}; it must not be negative");
            }
        }

        if (options.Interval <= TimeSpan.Zero)
        {
            errors.Add($"Scaling:Interval is {options.Interval}; it must be above zero");
        }

        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Invalid scaling settings: {string.Join("; ", errors)}.");
    }
}
