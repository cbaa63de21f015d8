<#
.SYNOPSIS
    Export Azure MFA Server's users, phones and OATH tokens for Twostep
    (`twostep migrate mfa-server FILE`).

.DESCRIPTION
    Reads the MFA Server Web Service SDK (PfWsSdk.asmx) through New-WebServiceProxy:
    FindUsers_3 a page at a time, then for each user GetPhone, GetUserSettings_2 and
    GetUserDevices, and writes one record per user (docs/migrating-from-mfa-server.md
    describes the document). Run it on a machine that reaches the SDK, as an account in
    the "PhoneFactor Admins" group. It changes nothing on the MFA Server.

    The file holds OATH secret keys: write it to an encrypted volume, move it to the
    Twostep server over SSH, and delete it once migrated.

    The SDK's property names differ between versions: each field is read from the first
    of several names that the object has (see Get-Field below); run with -Verbose to see
    which users had no phone, settings or devices. Check one user by hand first
    (-UserFilter 'alice@contoso.com').

.EXAMPLE
    .\mfa-server-export.ps1 -SdkUrl https://mfa01.contoso.local/MultiFactorAuthWebServiceSdk `
        -OutFile D:\export\mfa-server-users.json -Credential (Get-Credential)

.EXAMPLE
    .\mfa-server-export.ps1 -SdkUrl https://mfa01.contoso.local/MultiFactorAuthWebServiceSdk `
        -OutFile D:\export\mfa-server-users.csv -Format csv -PageSize 500
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)] [string] $SdkUrl,
    [Parameter(Mandatory = $true)] [string] $OutFile,
    [ValidateSet('json', 'csv')] [string] $Format = 'json',
    [System.Management.Automation.PSCredential] $Credential,
    [string] $UserFilter = '*',
    [ValidateRange(1, 1000)] [int] $PageSize = 500,
    [ValidateRange(1, 10000000)] [int] $MaxUsers = 1000000
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$wsdl = $SdkUrl.TrimEnd('/') + '/PfWsSdk.asmx?WSDL'
if ($Credential) {
    $proxy = New-WebServiceProxy -Uri $wsdl -Credential $Credential
} else {
    $proxy = New-WebServiceProxy -Uri $wsdl -UseDefaultCredential
}
$ns = $proxy.GetType().Namespace

function Get-Field($Object, [string[]] $Names) {
    # The first of $Names the object has, as text; $null when it has none or it is empty.
    if ($null -eq $Object) { return $null }
    foreach ($name in $Names) {
        $property = $Object.PSObject.Properties[$name]
        if ($null -ne $property -and $null -ne $property.Value -and "$($property.Value)" -ne '') {
            return "$($property.Value)".Trim()
        }
    }
    return $null
}

function Find-UserPage([int] $Start) {
    # FindUsers_3: filters on user name, first and last name, email and group (each with
    # its case sensitivity), then where the page starts and how long it is.
    $found = $null
    $errorCode = $null
    $null = $proxy.FindUsers_3(
        $UserFilter, $false, '*', $false, '*', $false, '*', $false, '*', $false,
        $Start, $PageSize, [ref] $found, [ref] $errorCode)
    if ($errorCode -and $errorCode.Code -ne 0) { throw "FindUsers_3: $($errorCode.Description)" }
    return @($found)
}

function Convert-User($Found) {
    $username = Get-Field $Found @('Username', 'UserName', 'username')
    $phone = New-Object ($ns + '.Userphone')
    $settings = New-Object ($ns + '.UserSettings2')
    $devices = $null
    $errorCode = $null
    $null = $proxy.GetPhone($username, [ref] $phone, [ref] $errorCode)
    $null = $proxy.GetUserSettings_2($username, [ref] $settings, [ref] $errorCode)
    $null = $proxy.GetUserDevices($username, [ref] $devices, [ref] $errorCode)
    if ($null -eq $phone) { Write-Verbose "$username has no phone" }
    $record = [ordered] @{
        username = $username
        firstName = Get-Field $Found @('FirstName', 'firstName')
        lastName = Get-Field $Found @('LastName', 'lastName')
        email = Get-Field $Found @('Email', 'email')
        userGroup = Get-Field $Found @('UserGroup', 'Group', 'userGroup')
        countryCode = Get-Field $phone @('CountryCode', 'countryCode')
        phone = Get-Field $phone @('Phone', 'PhoneNumber', 'phone')
        extension = Get-Field $phone @('Extension', 'extension')
        backupCountryCode = Get-Field $phone @('BackupCountryCode', 'backupCountryCode')
        backupPhone = Get-Field $phone @('BackupPhone', 'BackupPhoneNumber', 'backupPhone')
        backupExtension = Get-Field $phone @('BackupExtension', 'backupExtension')
        defaultMethod = Get-Field $settings @('DefaultMethod', 'Method', 'defaultMethod')
        mode = Get-Field $settings @('Mode', 'PinMode', 'ModeOfOperation', 'mode')
        textMessageMode = Get-Field $settings @('TextMessageMode', 'SmsMode', 'textMessageMode')
        language = Get-Field $settings @('Language', 'language')
        oathTokenSerialNumber = Get-Field $settings @('OathTokenSerialNumber', 'OathSerialNumber')
        oathTokenSecretKey = Get-Field $settings @('OathTokenSecretKey', 'OathSecretKey')
        oathTokenTimeInterval = Get-Field $settings @('OathTokenTimeInterval', 'OathTimeInterval')
        mobileAppDevices = @($devices | Where-Object { $null -ne $_ }).Count
    }
    return [pscustomobject] $record
}

$users = New-Object System.Collections.Generic.List[object]
$start = 0
do {
    $page = Find-UserPage $start
    foreach ($found in $page) {
        if ($users.Count -ge $MaxUsers) { break }
        $users.Add((Convert-User $found))
    }
    $start += $PageSize
    Write-Progress -Activity 'Exporting MFA Server users' -Status "$($users.Count) users"
} while ($page.Count -eq $PageSize -and $users.Count -lt $MaxUsers)

if ($Format -eq 'csv') {
    $users | Export-Csv -Path $OutFile -NoTypeInformation -Encoding UTF8
} else {
    $document = [ordered] @{
        format = 'mfa-server-users'
        version = 1
        exportedAt = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
        users = $users.ToArray()
    }
    $document | ConvertTo-Json -Depth 4 | Out-File -FilePath $OutFile -Encoding UTF8
}
Write-Host "$($users.Count) users written to $OutFile (it holds OATH secret keys: keep it safe)"
