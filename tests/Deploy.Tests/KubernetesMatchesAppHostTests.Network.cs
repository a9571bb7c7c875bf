using System.Text.RegularExpressions;
using Reference.Contracts;
using Reference.Deploy.Tests.Support;
using static Reference.Deploy.Tests.Support.KubernetesManifests;

namespace Reference.Deploy.Tests;

/// <summary>Reachability, secrets, KEDA and the databases.</summary>
public sealed partial class KubernetesMatchesAppHostTests
{
    [Fact]
    public void Only_what_the_AppHost_exposes_is_reachable_from_outside_through_the_Ingress()
    {
        var external = Manifest.Bindings().Where(b => (bool?)b.Value["external"] == true).Select(b => b.Resource).ToHashSet();

        var ingressBackends = Cluster.OfKind("Ingress")
            .SelectMany(ingress => List(Map(ingress, "spec"), "rules").Cast<Dictionary<object, object?>>())
            .SelectMany(rule => List(Map(rule, "http"), "paths").Cast<Dictionary<object, object?>>())
            .Select(path => Str(path, "backend", "service", "name")!)
            .ToHashSet();

        Assert.Equal(external, ingressBackends);
        Assert.All(Cluster.OfKind("Service"), service =>
            Assert.True(Str(service, "spec", "type") is null or "ClusterIP", $"Service/{Name(service)} is reachable from outside the cluster"));
        Assert.All(Cluster.Workloads, workload => Assert.All(Containers(workload), container =>
            Assert.DoesNotContain(List(container, "ports").Cast<Dictionary<object, object?>>(), port => port.ContainsKey("hostPort"))));
        Assert.All(Cluster.Workloads, workload => Assert.Null(Str(PodSpec(workload), "hostNetwork")));
    }

    [Fact]
    public void Each_workload_takes_connections_only_from_what_uses_it_in_the_AppHost()
    {
        var external = Manifest.Bindings().Where(b => (bool?)b.Value["external"] == true).Select(b => b.Resource).ToHashSet();
        var policies = Cluster.OfKind("NetworkPolicy").Select(p => Map(p, "spec")).ToList();

        // Nothing is reachable that no policy opens.
        Assert.Contains(policies, p => Map(p, "podSelector").Count == 0 && List(p, "policyTypes").Contains("Ingress") && List(p, "ingress").Count == 0);

        foreach (var workload in Cluster.Workloads.Select(Name))
        {
            var isContainer = AppHostContainers.Contains(workload);
            // The port the services connect to: a container's "tcp" binding, a service's "http".
            var servicePort = isContainer ? "tcp" : "http";
            var expected = external.Contains(workload) ? ["anyone"] : UsersOf(workload, servicePort);

            var rules = IngressRules(policies, workload).ToList();
            var sources = rules.Where(r => r.Ports.Count == 0 || r.Ports.Contains(servicePort)).SelectMany(r => r.Sources).ToHashSet();
            Assert.True(expected.SetEquals(sources),
                $"{workload}: open on {servicePort} to [{string.Join(", ", sources.Order())}], but used by [{string.Join(", ", expected.Order())}] in the AppHost");

            // Any other port (RabbitMQ's management API) is open to what uses that binding in the AppHost
            // (UploadApi's jobs console, as the monitoring user) and to KEDA, from its own namespace.
            var otherPorts = rules.SelectMany(r => r.Ports).Where(p => p != servicePort)
                .Concat(AppHostServices.SelectMany(s => s).Concat(AppHostSetups).SelectMany(ReferencedBindings)
                    .Where(b => b.Resource == workload && b.Binding != servicePort).Select(b => b.Binding))
                .ToHashSet();
            foreach (var port in otherPorts)
            {
                var users = UsersOf(workload, port);
                if (workload == "messaging" && port == "management")
                {
                    users.Add("namespace keda");
                }

                var open = rules.Where(r => r.Ports.Contains(port)).SelectMany(r => r.Sources).ToHashSet();
                Assert.True(users.SetEquals(open),
                    $"{workload}: open on {port} to [{string.Join(", ", open.Order())}], but used by [{string.Join(", ", users.Order())}]");
            }
        }
    }

    [Fact]
    public void The_Ingress_lets_the_largest_upload_reach_the_gateway()
    {
        var maxFileBytes = long.Parse(Manifest.Environment("gateway")["Uploads__MaxBytes"]);
        var ingress = Assert.Single(Cluster.OfKind("Ingress"));

        var bodyLimit = Quantity(Str(ingress, "metadata", "annotations", "nginx.ingress.kubernetes.io/proxy-body-size")!, binarySuffixes: true);

        Assert.True(bodyLimit >= ImageLimits.UploadBodyBytes(maxFileBytes),
            $"The Ingress takes bodies up to {bodyLimit} bytes; an upload of {maxFileBytes} bytes is {ImageLimits.UploadBodyBytes(maxFileBytes)} with its form");
    }

    [Fact]
    public void Secrets_come_only_from_the_Secret_under_the_AppHost_parameter_names()
    {
        var parameters = Manifest.Names("parameter.v0").ToHashSet();
        var secretParameters = parameters.Where(p => (bool?)Manifest[p]["inputs"]?["value"]?["secret"] == true).ToList();
        var references = Cluster.SecretReferences().ToList();

        // No Secret is written in the repository: the operator creates it (docs/deploy-kubernetes.md).
        Assert.Empty(Cluster.OfKind("Secret"));
        Assert.All(references, r => Assert.Equal(SecretName, r.Secret));
        Assert.All(references, r => Assert.Contains(r.Key, parameters));
        Assert.All(secretParameters, p => Assert.Contains(references, r => r.Key == p));
        // And no secret is a literal anywhere else: every password in a value is a $(VARIABLE) from the Secret.
        Assert.All(WorkloadsAndJobs.SelectMany(Containers).SelectMany(c => List(c, "env")).Cast<Dictionary<object, object?>>(), variable =>
        {
            var literal = Regex.Replace(variable.GetValueOrDefault("value") as string ?? "", @"\$\(\w+\)", "");
            Assert.DoesNotMatch(@"(?i)password=[^;,]", literal);
            Assert.DoesNotMatch(@"://[^/@]*:[^/@]+@", literal);
        });
        Assert.All(Cluster.OfKind("ConfigMap"), configMap =>
            Assert.DoesNotContain(Map(configMap, "data").Keys.Cast<string>(), key => secretParameters.Contains(key)));
    }

    [Fact]
    public void KEDA_scales_the_image_workers_on_their_queue_ready_plus_unacknowledged_with_the_scheduler_policy()
    {
        var deployment = Cluster.Get("Deployment", "imageworker");
        var scaledObject = ScaledObjectFor("imageworker") ?? throw new Xunit.Sdk.XunitException("No ScaledObject targets imageworker");
        var spec = Map(scaledObject, "spec");
        var trigger = Assert.Single(List(spec, "triggers").Cast<Dictionary<object, object?>>());
        var metadata = Map(trigger, "metadata");
        var namespaceName = Str(deployment, "metadata", "namespace");
        var management = Manifest["messaging"]["bindings"]!["management"]!;

        // KEDA owns the count: a replicas value in the Deployment would be re-applied over it.
        Assert.Null(Str(deployment, "spec", "replicas"));
        Assert.Equal(MinWorkers.ToString(), Str(spec, "minReplicaCount"));
        Assert.True(int.Parse(Str(spec, "maxReplicaCount")!) >= AppHostServices.Single(s => s.Key == "imageworker").Count());
        Assert.Equal(((int)IdleTimeout.TotalSeconds).ToString(), Str(spec, "cooldownPeriod"));

        Assert.Equal("rabbitmq", trigger["type"]);
        Assert.Equal(MessageEndpoints.ImageUploadedQueue, metadata["queueName"]);
        Assert.Equal("QueueLength", metadata["mode"]);
        // Over AMQP KEDA counts ready messages only; the management API's count adds the unacknowledged.
        Assert.Equal("http", metadata["protocol"]);
        Assert.NotEqual("true", metadata.GetValueOrDefault("excludeUnacknowledged"));
        Assert.True(decimal.Parse((string)metadata["value"]!) >= 1);
        // The broker's management port, by the Service's full name: KEDA asks from its own namespace.
        Assert.Equal($"http://messaging.{namespaceName}.svc:{management["targetPort"]}/", metadata["host"]);
        AssertServiceReaches("messaging", (int)management["targetPort"]!);

        var authentication = Cluster.Get("TriggerAuthentication", Str(trigger, "authenticationRef", "name")!);
        var credentials = List(Map(authentication, "spec"), "secretTargetRef").Cast<Dictionary<object, object?>>()
            .ToDictionary(r => (string)r["parameter"]!, r => (string)r["key"]!);
        // The broker's administrator (the parameters behind RABBITMQ_USER/PASSWORD): the monitoring user's
        // name is no parameter, so the Secret cannot give it to a TriggerAuthentication.
        Assert.Equal(Manifest.Environment("messaging")["RABBITMQ_USER"], $"{{{credentials["username"]}.value}}");
        Assert.Equal(Manifest.Environment("messaging")["RABBITMQ_PASSWORD"], $"{{{credentials["password"]}.value}}");
    }

    [Fact]
    public void Every_database_the_services_use_is_created_on_the_first_start()
    {
        var mysql = Cluster.Get("StatefulSet", "mysql");
        var initFolder = VolumeMountedAt(Container(mysql), "/docker-entrypoint-initdb.d");
        var (kind, source) = VolumeSource(mysql, initFolder);
        var scripts = Map(Cluster.Get("ConfigMap", Str(source, "name")!), "data");

        Assert.Equal("configMap", kind);
        // The same scripts as compose's deploy/mysql-init, file for file.
        var composeScripts = System.IO.Directory.GetFiles(Path.Combine(ComposeFile.DeployDirectory, "mysql-init"), "*.sql");
        Assert.Equal(composeScripts.Select(Path.GetFileName).Order(), scripts.Keys.Cast<string>().Order());
        Assert.All(composeScripts, file => Assert.Equal(File.ReadAllText(file), scripts[Path.GetFileName(file)]));
    }

}
