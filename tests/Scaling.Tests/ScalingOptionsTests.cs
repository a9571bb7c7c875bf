namespace Reference.Scaling.Tests;

public sealed class ScalingOptionsTests
{
    [Fact]
    public void Bad_settings_are_named_in_one_message()
    {
        var result = new ScalingOptionsValidator().Validate(null, new ScalingOptions
        {
            MinWorkers = 3, MaxWorkers = 2, IdleTimeout = TimeSpan.FromSeconds(-1), StableWindow = TimeSpan.FromSeconds(-5),
            DrainTimeout = TimeSpan.FromSeconds(-2),
        });

        Assert.True(result.Failed);
        var message = Assert.Single(result.Failures!);
        Assert.Contains("Scaling:MaxWorkers (2) is below Scaling:MinWorkers (3)", message);
        Assert.Contains("Scaling:IdleTimeout is -00:00:01; it must not be negative", message);
        Assert.Contains("Scaling:StableWindow", message);
        Assert.Contains("Scaling:DrainTimeout is -00:00:02; it must not be negative", message);
    }

    [Fact]
    public void The_defaults_are_valid_and_the_cap_follows_cores_and_memory()
    {
        Assert.True(new ScalingOptionsValidator().Validate(null, new ScalingOptions()).Succeeded);
        var gib = 1024L * 1024 * 1024;

        Assert.Equal(2, new ScalingOptions().Resolve(new MachineCapacity(Cores: 2, MemoryBytes: 8 * gib)).MaxWorkers);
        Assert.Equal(3, new ScalingOptions().Resolve(new MachineCapacity(Cores: 16, MemoryBytes: (long)(1.5 * gib))).MaxWorkers);
        Assert.Equal(1, new ScalingOptions().Resolve(new MachineCapacity(Cores: 4, MemoryBytes: gib / 4)).MaxWorkers);
        Assert.Equal(5, new ScalingOptions { MinWorkers = 5 }.Resolve(new MachineCapacity(2, 8 * gib)).MaxWorkers);
        Assert.Equal(7, new ScalingOptions { MaxWorkers = 7 }.Resolve(new MachineCapacity(2, gib)).MaxWorkers);
    }
}
