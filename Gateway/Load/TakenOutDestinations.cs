using System.Collections.Concurrent;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Reference.Gateway.Load;

/// <summary>
/// Destinations the API scaler took out of rotation before stopping their replica, by cluster and address, until it puts
/// them back. Not a health state: YARP's passive health check rewrites a destination's passive health after every request
/// it finishes, so a replica marked Unhealthy that still finished requests came straight back into rotation.
/// </summary>
public sealed class TakenOutDestinations
{
    private readonly ConcurrentDictionary<(string Cluster, Uri Address), byte> _out = new();

    public bool IsOut(string cluster, string address) =>
        !_out.IsEmpty && Uri.TryCreate(address, UriKind.Absolute, out var uri) && _out.ContainsKey((cluster, uri));

    public void TakeOut(string cluster, Uri address) => _out[(cluster, address)] = 0;

    public void PutBack(string cluster, Uri address) => _out.TryRemove((cluster, address), out _);
}

/// <summary>
/// The clusters' <c>AvailableDestinationsPolicy</c>: YARP's default (neither active nor passive health Unhealthy, where each
/// check is on) minus the destinations taken out. YARP asks it only when a destination's health or the config changes (the
/// method name's typo is YARP's).
/// </summary>
public sealed class HealthyAndNotTakenOutPolicy(TakenOutDestinations takenOut) : IAvailableDestinationsPolicy
{
    public const string PolicyName = "HealthyAndNotTakenOut";

    public string Name => PolicyName;

    public IReadOnlyList<DestinationState> GetAvailalableDestinations(ClusterConfig config, IReadOnlyList<DestinationState> allDestinations)
    {
        var active = config.HealthCheck?.Active?.Enabled ?? false;
        var passive = config.HealthCheck?.Passive?.Enabled ?? false;
        return allDestinations
            .Where(d => (!active || d.Health.Active != DestinationHealth.Unhealthy)
                        && (!passive || d.Health.Passive != DestinationHealth.Unhealthy)
                        && !takenOut.IsOut(config.ClusterId, d.Model.Config.Address))
            .ToList();
    }
}
