using Aspire.Hosting.Testing;
using Microsoft.Extensions.Options;

namespace Reference.AppHost.Tests;

/// <summary>Scaling settings are checked before anything starts.</summary>
public sealed class ScalingSettingsTests
{
    [Fact]
    public async Task Bad_settings_stop_start_up_with_one_message()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => DistributedApplicationTestingBuilder.CreateAsync<Projects.Reference_AppHost>(
            ["--Backing:Mode=local", "--Scaling:MinWorkers=3", "--Scaling:MaxWorkers=2", "--Scaling:IdleTimeout=-00:00:05"]));

        Assert.Equal(
            "Invalid scaling settings: Scaling:MaxWorkers (2) is below Scaling:MinWorkers (3); Scaling:IdleTimeout is -00:00:05; it must not be negative.",
            error.Message);
    }

    [Fact]
    public async Task Bad_api_scaling_settings_stop_start_up_with_one_message()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => DistributedApplicationTestingBuilder.CreateAsync<Projects.Reference_AppHost>(
            ["--Backing:Mode=local", "--Scaling:Apis:LatencyTarget=00:00:00", "--Scaling:Apis:InFlightPerReplicaTarget=-2"]));

        Assert.Equal(
            "Invalid API scaling settings: Scaling:Apis:LatencyTarget is 00:00:00; it must be above zero; Scaling:Apis:InFlightPerReplicaTarget is -2; it must be above 0.",
            error.Message);
    }
}
