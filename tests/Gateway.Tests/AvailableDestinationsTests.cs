using Reference.Gateway.Load;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Reference.Gateway.Tests;

/// <summary>The clusters' destinations policy: healthy ones first, all of them when none is (YARP's panic), never one taken out.</summary>
public sealed class AvailableDestinationsTests
{
    private static readonly ClusterConfig Cluster = new()
    {
        ClusterId = "inventoryapi",
        HealthCheck = new HealthCheckConfig { Active = new ActiveHealthCheckConfig { Enabled = true }, Passive = new PassiveHealthCheckConfig { Enabled = true } },
    };

    [Fact]
    public void Unhealthy_destinations_are_skipped_while_one_is_healthy_and_all_are_tried_when_none_is_but_never_one_taken_out()
    {
        var takenOut = new TakenOutDestinations();
        var policy = new HealthyAndNotTakenOutPolicy(takenOut);
        var first = Destination("http://127.0.0.1:5001/", DestinationHealth.Unhealthy);
        var second = Destination("http://127.0.0.1:5002/", DestinationHealth.Unknown);
        var third = Destination("http://127.0.0.1:5003/", DestinationHealth.Unhealthy);

        Assert.Equal(["5002"], Ports(policy.GetAvailalableDestinations(Cluster, [first, second, third])));

        // The one healthy replica is taken out to be stopped: the others are tried rather than answer 503.
        takenOut.TakeOut("inventoryapi", new Uri("http://127.0.0.1:5002/"));
        Assert.Equal(["5001", "5003"], Ports(policy.GetAvailalableDestinations(Cluster, [first, second, third])));

        // A single replica whose health check has not yet seen it start: still tried.
        Assert.Equal(["5001"], Ports(policy.GetAvailalableDestinations(Cluster, [first])));
    }

    // By port: a DestinationState is itself a list of one destination, which xUnit's collection comparison would recurse into.
    private static string[] Ports(IEnumerable<DestinationState> destinations) =>
        destinations.Select(d => new Uri(d.Model.Config.Address).Port.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static DestinationState Destination(string address, DestinationHealth active) =>
        new(address, new DestinationModel(new DestinationConfig { Address = address })) { Health = { Active = active } };
}
