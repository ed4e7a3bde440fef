#!/usr/bin/python3
"""seed.py identity|cloud STATE_DIR — fill the test cloud with what thinkiosk's tests, demo and
benchmarks expect, and write STATE_DIR/cloud.json (ids of images, networks and servers).

identity: projects kiosk/service, users alice/bob (member of kiosk), service users, catalog.
cloud:    flavor, zones "kvm" (libvirt guests) and "fake" (Nova's fake driver), Glance images carrying the os_type/
          os_distro/os_version properties, networks with a floating-IP pool, and servers booted by
          alice and bob themselves (so Nova records them as owners)."""
import json, os, sys, time
from keystoneauth1 import session, identity
from keystoneclient.v3 import client as keystone_client

AUTH = 'http://127.0.0.1:5000/v3'
phase, state = sys.argv[1], sys.argv[2]
GUEST = os.path.join(os.path.dirname(state.rstrip('/')), 'thinkiosk-guest')


def sess(user, password, project):
    return session.Session(auth=identity.v3.Password(
        auth_url=AUTH, username=user, password=password, project_name=project,
        user_domain_id='default', project_domain_id='default'))


def seed_identity():
    ks = keystone_client.Client(session=sess('admin', 'adminpass', 'admin'))
    member, admin = ks.roles.find(name='member'), ks.roles.find(name='admin')
    kiosk = ks.projects.create('kiosk', 'default', description='thinkiosk test users')
    service = ks.projects.create('service', 'default')
    for name in ('alice', 'bob'):
        ks.roles.grant(member, user=ks.users.create(name, domain='default', password=name + 'pass'), project=kiosk)
    for name in ('placement', 'glance', 'nova', 'neutron'):
        ks.roles.grant(admin, user=ks.users.create(name, domain='default', password=name + 'pass'), project=service)
    for name, kind, url in (('placement', 'placement', 'http://127.0.0.1:8778'),
                            ('glance', 'image', 'http://127.0.0.1:9292'),
                            ('nova', 'compute', 'http://127.0.0.1:8774/v2.1'),
                            ('neutron', 'network', 'http://127.0.0.1:9696')):
        svc = ks.services.create(name, type=kind)
        for interface in ('public', 'internal', 'admin'):
            ks.endpoints.create(svc, url, interface=interface, region='RegionOne')
    print('kiosk project', kiosk.id)


def seed_cloud():
    admin = sess('admin', 'adminpass', 'admin')
    ks = keystone_client.Client(session=admin)
    kiosk = ks.projects.find(name='kiosk')
    nova = dict(endpoint_filter={'service_type': 'compute', 'interface': 'public'},
                headers={'OpenStack-API-Version': 'compute 2.79'})
    glance = dict(endpoint_filter={'service_type': 'image', 'interface': 'public'})
    neutron = dict(endpoint_filter={'service_type': 'network', 'interface': 'public'})

    admin.post('/flavors', json={'flavor': {'name': 'm1.nano', 'ram': 128, 'vcpus': 1, 'disk': 1, 'id': '42'}}, **nova)
    # The libvirt host (24 GiB x 1.5) cannot fit this one, the project's 50 GiB RAM quota can: booted
    # in zone "kvm" it goes to ERROR with "No valid host was found", as on a full cloud.
    admin.post('/flavors', json={'flavor': {'name': 'm1.too-big', 'ram': 40960, 'vcpus': 1, 'disk': 1, 'id': '43'}}, **nova)
    # What thinkiosk reads per desktop comes from flavor extra specs, which only an admin can set
    # (a project member can set a colleague's server metadata, so that is never read).
    for fid, fname, specs in (('44', 'm1.windows', {'thinkiosk:usb': 'false'}), ('45', 'm1.appliance', {'thinkiosk:protocol': 'vnc'})):
        admin.post('/flavors', json={'flavor': {'name': fname, 'ram': 128, 'vcpus': 1, 'disk': 1, 'id': fid}}, **nova)
        admin.post('/flavors/%s/os-extra_specs' % fid, json={'extra_specs': specs}, **nova)
    # Each compute host gets its own zone: Nova's default zone cannot be enforced through Placement.
    for zone, host in (('kvm', 'kvm-compute'), ('fake', 'fake-compute')):
        agg = admin.post('/os-aggregates', json={'aggregate': {'name': zone, 'availability_zone': zone}}, **nova).json()['aggregate']
        admin.post('/os-aggregates/%s/action' % agg['id'], json={'add_host': {'host': host}}, **nova)

    def upload(name, data, disk_format, container_format, **props):
        image = admin.post('/v2/images', json=dict(name=name, disk_format=disk_format, container_format=container_format,
                                                   visibility='public', **props), **glance).json()
        admin.put('/v2/images/%s/file' % image['id'], data=data,
                  headers={'Content-Type': 'application/octet-stream'}, **glance)
        return image['id']

    kernel = upload('tiny-kernel', open(GUEST + '/vmlinuz', 'rb').read(), 'aki', 'aki')
    ramdisk = upload('tiny-initrd', open(GUEST + '/initrd.gz', 'rb').read(), 'ari', 'ari')
    blank = b'\0' * 1048576
    images = {
        'linux': upload('debian-12-desktop', blank, 'raw', 'bare', kernel_id=kernel, ramdisk_id=ramdisk,
                        os_command_line='console=ttyS0 console=tty0 consoleblank=0', hw_video_model='vga',
                        os_type='linux', os_distro='debian', os_version='12'),
        # Only the fake compute boots these: what matters is what Glance says about the guest OS.
        'windows': upload('windows-11-desktop', blank, 'raw', 'bare', os_type='windows', os_distro='windows', os_version='11'),
        'plain': upload('appliance-no-os-properties', blank, 'raw', 'bare'),
    }

    public = admin.post('/v2.0/networks', json={'network': {
        'name': 'public', 'router:external': True, 'provider:network_type': 'flat',
        'provider:physical_network': 'physnet2'}}, **neutron).json()['network']
    admin.post('/v2.0/subnets', json={'subnet': {
        'network_id': public['id'], 'name': 'public-v4', 'ip_version': 4, 'cidr': '203.0.113.0/24',
        'gateway_ip': '203.0.113.1', 'enable_dhcp': False,
        'allocation_pools': [{'start': '203.0.113.10', 'end': '203.0.113.30'}]}}, **neutron)
    net = admin.post('/v2.0/networks', json={'network': {
        'name': 'kiosk-net', 'project_id': kiosk.id, 'provider:network_type': 'flat',
        'provider:physical_network': 'physnet1'}}, **neutron).json()['network']
    subnet = admin.post('/v2.0/subnets', json={'subnet': {
        'network_id': net['id'], 'project_id': kiosk.id, 'name': 'kiosk-v4', 'ip_version': 4,
        'cidr': '192.0.2.0/24', 'gateway_ip': '192.0.2.1', 'enable_dhcp': False}}, **neutron).json()['subnet']
    router = admin.post('/v2.0/routers', json={'router': {
        'name': 'kiosk-router', 'project_id': kiosk.id,
        'external_gateway_info': {'network_id': public['id']}}}, **neutron).json()['router']
    admin.put('/v2.0/routers/%s/add_router_interface' % router['id'], json={'subnet_id': subnet['id']}, **neutron)

    users = {name: sess(name, name + 'pass', 'kiosk') for name in ('alice', 'bob')}

    def boot(user, name, image, zone, network, metadata=None, flavor='42'):
        body = {'name': name, 'imageRef': images[image], 'flavorRef': flavor, 'availability_zone': zone,
                'networks': [{'uuid': net['id']}] if network else 'none', 'metadata': metadata or {}}
        return users[user].post('/servers', json={'server': body}, **nova).json()['server']['id']

    servers = {
        'alice-linux': boot('alice', 'alice-linux', 'linux', 'kvm', False),
        'alice-windows': boot('alice', 'alice-windows', 'windows', 'fake', True, flavor='44'),
        'alice-spare': boot('alice', 'alice-spare', 'linux', 'fake', True),
        'alice-appliance': boot('alice', 'alice-appliance', 'plain', 'fake', False, flavor='45'),
        'bob-linux': boot('bob', 'bob-linux', 'linux', 'fake', True),
    }
    deadline = time.time() + 240
    pending = dict(servers)
    while pending and time.time() < deadline:
        for name, sid in list(pending.items()):
            server = admin.get('/servers/%s' % sid, **nova).json()['server']
            if server['status'] == 'ERROR':
                raise SystemExit('server %s went to ERROR: %s' % (name, server.get('fault')))
            if server['status'] == 'ACTIVE':
                del pending[name]
        time.sleep(0.5)
    if pending:
        raise SystemExit('servers not ACTIVE in time: %s' % ', '.join(pending))

    # Bob's desktop already holds a floating IP: the shim must never take it for someone else.
    bob_port = users['bob'].get('/v2.0/ports?device_id=%s' % servers['bob-linux'], **neutron).json()['ports'][0]
    bob_fip = users['bob'].post('/v2.0/floatingips', json={'floatingip': {
        'floating_network_id': public['id'], 'port_id': bob_port['id']}}, **neutron).json()['floatingip']

    inventory = {
        'keystone': AUTH, 'project': {'id': kiosk.id, 'name': 'kiosk'},
        'users': {name: {'password': name + 'pass', 'id': ks.users.find(name=name).id} for name in ('alice', 'bob')},
        'images': images, 'networks': {'public': public['id'], 'kiosk': net['id']},
        'servers': servers, 'bobFloatingIp': bob_fip['floating_ip_address'],
    }
    with open(os.path.join(state, 'cloud.json'), 'w') as f:
        json.dump(inventory, f, indent=2)
    print(json.dumps(inventory, indent=2))


{'identity': seed_identity, 'cloud': seed_cloud}[phase]()
