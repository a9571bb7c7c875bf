using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The shop's write endpoints, in every service, are protected by one admin key: the
/// AppHost parameter <c>admin-key</c>, given to services as <c>Auth:AdminKey</c> and sent by
/// clients in <c>X-Api-Key</c>. During a rotation <c>Auth:PreviousAdminKey</c> is valid too.
/// Checked by an authentication handler, so before any body is read: missing gives 401, wrong
/// gives 403, both as ProblemDetails.
/// </summary>
public static class AdminKey
{
    public const string Header = "X-Api-Key";
    public const string ConfigurationKey = "Auth:AdminKey";
    public const string PreviousConfigurationKey = "Auth:PreviousAdminKey";
    public const string Scheme = "AdminKey";
    public const string Policy = "AdminKey";
    public const int MinLength = 32;

    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(Policy);

    /// <summary>
    /// The <c>AdminKey</c> scheme and policy; the service refuses to start when the key is missing
    /// or shorter than <see cref="MinLength"/> characters.
    /// </summary>
    public static IHostApplicationBuilder RequireAdminKeyConfigured(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAdminKeyOptions()
            .Validate(o => !string.IsNullOrEmpty(o.AdminKey),
                $"{ConfigurationKey} is not set. Run the service from the AppHost (parameter admin-key), or set Auth__AdminKey.")
            .Validate(o => string.IsNullOrEmpty(o.AdminKey) || o.AdminKey.Length >= MinLength,
                $"{ConfigurationKey} is shorter than {MinLength} characters; use a random one, e.g. `openssl rand -hex 32`.")
            .Validate(o => string.IsNullOrEmpty(o.PreviousAdminKey) || o.PreviousAdminKey.Length >= MinLength,
                $"{PreviousConfigurationKey} is shorter than {MinLength} characters.")
            .ValidateOnStart();

        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(Scheme, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser());
        return builder;
    }

    /// <summary>The configured keys, for services that only need to recognise the key (the gateway's budgets).</summary>
    public static OptionsBuilder<AdminKeyOptions> AddAdminKeyOptions(this IServiceCollection services) =>
        services.AddOptions<AdminKeyOptions>()
            .Configure<Configuration.IConfiguration>((options, configuration) =>
            {
                options.AdminKey = configuration[ConfigurationKey];
                options.PreviousAdminKey = configuration[PreviousConfigurationKey];
            });

    /// <summary>True when <paramref name="presented"/> is the current or the previous key.</summary>
    public static bool IsValid(AdminKeyOptions keys, string presented) =>
        // Both compared every time, so the answer's timing does not say which one matched.
        KeysEqual(presented, keys.AdminKey) | KeysEqual(presented, keys.PreviousAdminKey);

    // Hashing first makes both sides the same length, so the comparison time says nothing about the key.
    private static bool KeysEqual(string presented, string? expected) =>
        !string.IsNullOrEmpty(expected) && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}

/// <summary><c>Auth:AdminKey</c>, and <c>Auth:PreviousAdminKey</c> while a key is being rotated out.</summary>
public sealed class AdminKeyOptions
{
    public string? AdminKey { get; set; }
    public string? PreviousAdminKey { get; set; }
}

/// <summary>
/// Authenticates a request that carries a valid admin key in <c>X-Api-Key</c>. The challenge
/// tells a caller without a key (401) from one with a wrong key (403).
/// </summary>
public sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IOptionsMonitor<AdminKeyOptions> keys, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Request.Headers[AdminKey.Header].ToString();
        if (presented.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!AdminKey.IsValid(keys.CurrentValue, presented))
        {
            return Task.FromResult(AuthenticateResult.Fail("Wrong admin key."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin")], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Request.Headers[AdminKey.Header].ToString().Length > 0)
        {
            return WriteProblemAsync(StatusCodes.Status403Forbidden, "Wrong admin key", $"The {AdminKey.Header} header does not hold the admin key.");
        }

        Response.Headers.WWWAuthenticate = $"ApiKey header=\"{AdminKey.Header}\"";
        return WriteProblemAsync(StatusCodes.Status401Unauthorized, "Admin key required", $"Send the admin key in the {AdminKey.Header} header.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Wrong admin key", $"The {AdminKey.Header} header does not hold the admin key.");

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
