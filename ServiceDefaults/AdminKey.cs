using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The shop's write endpoints, in every service, are protected by one admin key: the
/// AppHost parameter <c>admin-key</c>, given to services as <c>Auth:AdminKey</c> and sent by
/// clients in <c>X-Api-Key</c>. Missing gives 401, wrong gives 403, both as ProblemDetails.
/// </summary>
public static class AdminKey
{
    public const string Header = "X-Api-Key";
    public const string ConfigurationKey = "Auth:AdminKey";

    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var presented = http.Request.Headers[Header].ToString();
            if (presented.Length == 0)
            {
                http.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{Header}\"";
                return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Admin key required",
                    detail: $"Send the admin key in the {Header} header.");
            }

            var expected = http.RequestServices.GetRequiredService<IConfiguration>()[ConfigurationKey];
            if (string.IsNullOrEmpty(expected) || !KeysEqual(presented, expected))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Wrong admin key",
                    detail: $"The {Header} header does not hold the admin key.");
            }

            return await next(context);
        });

    /// <summary>Refuses to start a service that has write endpoints but no admin key configured.</summary>
    public static IHostApplicationBuilder RequireAdminKeyConfigured(this IHostApplicationBuilder builder) =>
        string.IsNullOrWhiteSpace(builder.Configuration[ConfigurationKey])
            ? throw new InvalidOperationException(
                $"{ConfigurationKey} is not set. Run the service from the AppHost (parameter admin-key), or set Auth__AdminKey.")
            : builder;

    // Hashing first makes both sides the same length, so the comparison time says nothing about the key.
    private static bool KeysEqual(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
